using ConvKit.Data;
using ConvKit.NN;
using ConvKit.Ops;

namespace ConvKit.Vision.Detection;

/// <summary>
/// Fast R-CNN (Girshick, ICCV 2015): one backbone pass per picture (<see cref="RegionBackbone"/>, stride 8); each
/// selective-search proposal (<see cref="SelectiveSearchProposals"/>) is pooled out of the feature map into 7×7 cells
/// by RoI max pooling (<see cref="F.RoiPool(Tensor, Tensor, Size2, float)"/>, the paper's; or RoIAlign), and the box head
/// (<see cref="RegionHead"/>) classifies it (C + 1 classes with the background) and regresses a box per class.
/// Training draws 64 regions a picture, a quarter foreground (IoU ≥ 0.5 with an object), the rest background
/// (IoU in [0.1, 0.5)), and minimises cross-entropy + smooth L1 (<see cref="RegionLosses.RegionHead"/>).
/// Detection decodes every proposal (<see cref="RegionHeadDecoder"/>). Sub-modules <c>backbone</c> and <c>roi_heads</c>.
/// <para><see cref="Module.Forward"/> of the pictures gives the feature map (N, 128, H/8, W/8);
/// <see cref="Module.ForwardOutputs"/> of (pictures, RoIs (K, 5)) gives <c>class_logits</c> and <c>box_deltas</c>.</para>
/// </summary>
public sealed class FastRCnn : Module, IRegionDetectionModel
{
    readonly Sequential backbone;
    readonly RegionHead head;

    /// <param name="numClasses">object classes, without the background</param>
    /// <param name="inChannels">1 for grey pictures, 3 for colour</param>
    /// <param name="useRoiAlign">RoIAlign (bilinear, sampling ratio 2) instead of the paper's RoI max pooling</param>
    public FastRCnn(int numClasses = 10, int inChannels = 1, bool useRoiAlign = false)
    {
        Models.ModelChecks.ClassesAndChannels("FastRCnn", numClasses, inChannels);
        Classes = numClasses;
        UsesRoiAlign = useRoiAlign;
        backbone = RegisterModule("backbone", RegionBackbone.Create(inChannels));
        head = RegisterModule("roi_heads", new RegionHead(RegionBackbone.Channels * PooledSize * PooledSize, 256, numClasses));
    }

    /// <summary>Cells per side of each pooled region.</summary>
    public const int PooledSize = 7;

    /// <inheritdoc/>
    public int Classes { get; }

    /// <summary>Whether regions are pooled by RoIAlign rather than RoI max pooling.</summary>
    public bool UsesRoiAlign { get; }

    /// <summary>Where the proposals come from.</summary>
    public SelectiveSearchProposals Proposals { get; init; } = new();

    /// <summary>Region labelling for training (the paper's 0.5 / [0.1, 0.5)).</summary>
    public RegionMatcher Matcher { get; init; } = RegionHeadTargets.PaperMatcher;

    /// <summary>Regions per picture and foreground share for training (64, ¼).</summary>
    public RegionSampler Sampler { get; init; } = new(64, 0.25f);

    /// <summary>The feature map (N, 128, H/8, W/8) of pictures (N, C, H, W).</summary>
    protected override Tensor ForwardCore(Tensor input)
    {
        RegionTruths.CheckImages("FastRCnn", input);
        return backbone.Forward(input);
    }

    /// <inheritdoc/>
    protected override int[] OutputShapeCore(int[] inputShape)
    {
        RegionTruths.CheckImages("FastRCnn", inputShape);
        return backbone.OutputShape(inputShape);
    }

    /// <summary>(pictures) → the feature map; (pictures, RoIs (K, 5) [picture, x1, y1, x2, y2]) → <c>class_logits</c>, <c>box_deltas</c>.</summary>
    protected override TensorDict ForwardCore(IReadOnlyList<Tensor> inputs)
    {
        if (inputs.Count == 1) return TensorDict.Single(ForwardCore(inputs[0]));
        if (inputs.Count != 2) throw new ArgumentException($"FastRCnn: takes (pictures) or (pictures, RoIs), got {inputs.Count} inputs.");
        var (logits, deltas) = Classify(ForwardCore(inputs[0]), inputs[1]);
        return new TensorDict([new("class_logits", logits), new("box_deltas", deltas)]);
    }

    (Tensor Logits, Tensor Deltas) Classify(Tensor features, Tensor rois)
    {
        const float scale = 1f / RegionBackbone.Stride;
        var pooled = UsesRoiAlign
            ? F.RoiAlign(features, rois, PooledSize, scale, samplingRatio: 2)
            : F.RoiPool(features, rois, PooledSize, scale);
        return head.Split(head.Forward(pooled.Reshape(pooled.Shape[0], -1)));
    }

    /// <inheritdoc/>
    public RegionDetectionLoss Loss(Tensor images, IReadOnlyList<BoundingBoxes> boxes)
    {
        var truths = RegionTruths.Of("FastRCnn.Loss", images, boxes, Classes);
        var proposals = Proposals.Propose(images);
        var (regions, labels, targets) = RegionTruths.Sample(proposals, truths, Matcher, Sampler, Generator.Current);
        var (logits, deltas) = Classify(Forward(images), RegionTruths.Rois(regions));
        var (classification, box) = RegionLosses.RegionHead(logits, deltas, labels, targets);
        return new RegionDetectionLoss(classification + box, new Dictionary<string, Tensor> { ["cls_loss"] = classification, ["box_loss"] = box });
    }

    /// <inheritdoc/>
    public IReadOnlyList<DetectedObject>[] Detect(Tensor images, DetectionOptions? options = null)
    {
        RegionTruths.CheckImages("FastRCnn.Detect", images);
        using var _ = Tensor.NoGrad();
        return RegionTruths.InChunks(images, chunk => DetectChunk(chunk, options));
    }

    IReadOnlyList<DetectedObject>[] DetectChunk(Tensor images, DetectionOptions? options)
    {
        var proposals = Proposals.Propose(images);
        if (proposals.All(p => p.Length == 0)) return proposals.Select(_ => (IReadOnlyList<DetectedObject>)[]).ToArray();
        var (logits, deltas) = Classify(Forward(images), RegionTruths.Rois(proposals));
        return RegionHeadDecoder.Decode(logits, deltas, proposals, new Size2(images.Shape[2], images.Shape[3]), options);
    }
}
