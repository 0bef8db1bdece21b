using ConvKit.Autograd;
using ConvKit.Data;
using ConvKit.NN;
using ConvKit.Ops;
using ConvKit.Vision.Models;

namespace ConvKit.Vision.Detection;

/// <summary>
/// R-CNN (Girshick, Donahue, Darrell and Malik, CVPR 2014): each selective-search proposal
/// (<see cref="SelectiveSearchProposals"/>) is cut out of the picture and warped to a fixed <see cref="WarpSize"/>²
/// square, whatever its aspect ratio (the paper's "warp"; done by bilinear sampling, RoIAlign on the picture itself at
/// scale 1, so no context padding), and a small CNN classifies every warped region on its own — three 3×3
/// conv-bn-relu blocks (32, 64, 128 channels) with 2×2 max-pools, then the box head (<see cref="RegionHead"/>):
/// C + 1 classes with the background, and class-specific box regression in the R-CNN parameterisation
/// (<see cref="BoxCoder.RegionHead"/>). Detection keeps per-class NMS of the decoded boxes (<see cref="RegionHeadDecoder"/>).
/// <para>Training fine-tunes the network end to end on warped regions labelled as the paper's fine-tuning stage
/// (foreground IoU ≥ 0.5, background [0.1, 0.5), 32 regions a picture, a quarter foreground), with softmax classification
/// and the box regression trained jointly (cross-entropy + smooth L1, <see cref="RegionLosses.RegionHead"/>) rather than
/// the paper's separate SVMs and ridge regressors: the softmax is Fast R-CNN's finding that the SVMs add nothing.</para>
/// <para>Sub-modules <c>features</c> and <c>roi_heads</c>. <see cref="Module.Forward"/> takes warped regions
/// (K, C, 32, 32) and gives the head's (K, 5·(C + 1)); <see cref="Module.ForwardOutputs"/> of (pictures, RoIs (K, 5)) warps
/// them first and gives <c>class_logits</c> and <c>box_deltas</c>.</para>
/// </summary>
public sealed class RCnn : Module, IRegionDetectionModel
{
    /// <summary>The side of the square every region is warped to.</summary>
    public const int WarpSize = 32;

    readonly Sequential features;
    readonly RegionHead head;
    readonly int inChannels;

    /// <param name="numClasses">object classes, without the background</param>
    /// <param name="inChannels">1 for grey pictures, 3 for colour</param>
    public RCnn(int numClasses = 10, int inChannels = 1)
    {
        ModelChecks.ClassesAndChannels("RCnn", numClasses, inChannels);
        Classes = numClasses;
        this.inChannels = inChannels;
        features = RegisterModule("features", new Sequential());
        int channels = inChannels;
        foreach (int width in new[] { 32, 64, 128 })
        {
            features.Add(new ConvBnRelu(channels, width, 3, padding: 1));
            features.Add(new MaxPool2d(2));
            channels = width;
        }
        head = RegisterModule("roi_heads", new RegionHead(channels * (WarpSize / 8) * (WarpSize / 8), 256, numClasses));
    }

    /// <inheritdoc/>
    public int Classes { get; }

    /// <summary>Where the proposals come from.</summary>
    public SelectiveSearchProposals Proposals { get; init; } = new();

    /// <summary>Region labelling for training (the paper's 0.5 / [0.1, 0.5)).</summary>
    public RegionMatcher Matcher { get; init; } = RegionHeadTargets.PaperMatcher;

    /// <summary>Regions per picture and foreground share for training (32, ¼: the paper's 32 + 96 per 128-region batch).</summary>
    public RegionSampler Sampler { get; init; } = new(32, 0.25f);

    /// <summary>The head's output (K, 5·(C + 1)) for warped regions (K, C, 32, 32).</summary>
    protected override Tensor ForwardCore(Tensor input)
    {
        if (input.Rank != 4 || input.Shape[1] != inChannels || input.Shape[2] != WarpSize || input.Shape[3] != WarpSize)
            throw new ArgumentException($"RCnn: expected warped regions (K, {inChannels}, {WarpSize}, {WarpSize}), got {ModelChecks.Format(input.Shape)}; " +
                "give pictures and their RoIs to ForwardOutputs, or use Detect.");
        var map = features.Forward(input);
        return head.Forward(map.Reshape(map.Shape[0], -1));
    }

    /// <inheritdoc/>
    protected override int[] OutputShapeCore(int[] inputShape)
    {
        if (inputShape.Length != 4 || inputShape[1] != inChannels || inputShape[2] != WarpSize || inputShape[3] != WarpSize)
            throw new ArgumentException($"RCnn: expected warped regions (K, {inChannels}, {WarpSize}, {WarpSize}), got {ModelChecks.Format(inputShape)}; " +
                "give pictures and their RoIs to ForwardOutputs, or use Detect.");
        return head.OutputShape(ShapeInference.Flatten(features.OutputShape(inputShape), 1));
    }

    /// <summary>(pictures, RoIs (K, 5) [picture, x1, y1, x2, y2]) → <c>class_logits</c>, <c>box_deltas</c>.</summary>
    protected override TensorDict ForwardCore(IReadOnlyList<Tensor> inputs)
    {
        if (inputs.Count == 1) return TensorDict.Single(ForwardCore(inputs[0]));
        if (inputs.Count != 2) throw new ArgumentException($"RCnn: takes (regions) or (pictures, RoIs), got {inputs.Count} inputs.");
        var (logits, deltas) = head.Split(Forward(Warp(inputs[0], inputs[1])));
        return new TensorDict([new("class_logits", logits), new("box_deltas", deltas)]);
    }

    /// <summary>The regions (K, 5) of the pictures (N, C, H, W) warped to (K, C, 32, 32) by bilinear sampling.</summary>
    public static Tensor Warp(Tensor images, Tensor rois) => F.RoiAlign(images, rois, WarpSize, 1f, samplingRatio: 2, aligned: true);

    /// <summary>
    /// The head's output for the RoIs (K, 5) of the pictures: warped and classified all at once when gradients are
    /// recorded (training), else <see cref="RegionChunk"/> regions at a time, so that an evaluation batch's tens of
    /// thousands of warped regions never sit in memory together.
    /// </summary>
    Tensor Classify(Tensor images, Tensor rois)
    {
        int count = rois.Shape[0];
        if (GradMode.IsEnabled || count <= RegionChunk) return Forward(Warp(images, rois));
        var parts = new List<Tensor>();
        for (int start = 0; start < count; start += RegionChunk)
            parts.Add(Forward(Warp(images, rois.Narrow(0, start, Math.Min(RegionChunk, count - start)))));
        return F.Concat(parts, 0);
    }

    /// <summary>Regions warped and classified at a time without gradients.</summary>
    const int RegionChunk = 1024;

    /// <inheritdoc/>
    public RegionDetectionLoss Loss(Tensor images, IReadOnlyList<BoundingBoxes> boxes)
    {
        var truths = RegionTruths.Of("RCnn.Loss", images, boxes, Classes);
        var proposals = Proposals.Propose(images);
        var (regions, labels, targets) = RegionTruths.Sample(proposals, truths, Matcher, Sampler, Generator.Current);
        var (logits, deltas) = head.Split(Classify(images.Detach(), RegionTruths.Rois(regions)));
        var (classification, box) = RegionLosses.RegionHead(logits, deltas, labels, targets);
        return new RegionDetectionLoss(classification + box, new Dictionary<string, Tensor> { ["cls_loss"] = classification, ["box_loss"] = box });
    }

    /// <inheritdoc/>
    public IReadOnlyList<DetectedObject>[] Detect(Tensor images, DetectionOptions? options = null)
    {
        RegionTruths.CheckImages("RCnn.Detect", images);
        using var _ = Tensor.NoGrad();
        return RegionTruths.InChunks(images, chunk => DetectChunk(chunk, options));
    }

    IReadOnlyList<DetectedObject>[] DetectChunk(Tensor images, DetectionOptions? options)
    {
        var proposals = Proposals.Propose(images);
        if (proposals.All(p => p.Length == 0)) return proposals.Select(_ => (IReadOnlyList<DetectedObject>)[]).ToArray();
        var (logits, deltas) = head.Split(Classify(images, RegionTruths.Rois(proposals)));
        return RegionHeadDecoder.Decode(logits, deltas, proposals, new Size2(images.Shape[2], images.Shape[3]), options);
    }
}
