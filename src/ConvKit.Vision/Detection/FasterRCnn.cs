using ConvKit.Data;
using ConvKit.NN;
using ConvKit.Ops;

namespace ConvKit.Vision.Detection;

/// <summary>
/// Faster R-CNN (Ren, He, Girshick and Sun, NeurIPS 2015): a region proposal network
/// (<see cref="RegionProposalNetwork"/>) over the shared backbone's feature map (<see cref="RegionBackbone"/>, stride 8)
/// proposes the regions — anchors of sizes 24, 40, 64 pixels and aspect ratios ½, 1, 2 (9 per cell) — and the Fast R-CNN
/// head (<see cref="RegionHead"/> on 7×7 RoIAlign cells, sampling ratio 2, as torchvision's) classifies and refines
/// them. Trained end to end by approximate joint training: one loss, the sum of the RPN's objectness and box terms
/// (<c>rpn_obj_loss</c>, <c>rpn_box_loss</c>) and the head's (<c>cls_loss</c>, <c>box_loss</c>), with the proposals
/// treated as constants. The head trains on 64 regions a picture drawn from the RPN's proposals plus the ground truth
/// (foreground IoU ≥ 0.5, background below 0.5, a quarter foreground; torchvision's and py-faster-rcnn's end-to-end
/// setting). Proposals: 600 → NMS 0.7 → 300 in training, 300 → 100 in detection.
/// <para>Sub-modules <c>backbone</c>, <c>rpn</c> and <c>roi_heads</c>. <see cref="Module.Forward"/> of pictures gives the
/// feature map; <see cref="Module.ForwardOutputs"/> of (pictures) gives <c>features</c>, <c>objectness</c>
/// (N, 9, H/8, W/8) and <c>rpn_deltas</c> (N, 36, H/8, W/8); of (pictures, RoIs (K, 5)), <c>class_logits</c> and
/// <c>box_deltas</c>.</para>
/// <para>ONNX: <c>OnnxExporter</c> traces the dense graph (backbone and RPN head: <c>features</c>, <c>objectness</c>,
/// <c>rpn_deltas</c>), as for any model. The whole detector, picture in and detections out, is written by
/// <c>convkit export faster-rcnn</c>, which adds the data-dependent middle and end as ONNX nodes (TopK, the box
/// decoding as arithmetic, NonMaxSuppression, RoiAlign, Gemm, per-class NonMaxSuppression through a class-masked score
/// matrix), so that ONNX Runtime alone gives the boxes <see cref="Detect"/> gives, one picture a run.</para>
/// </summary>
public sealed class FasterRCnn : Module, IRegionDetectionModel
{
    readonly Sequential backbone;
    readonly RegionProposalNetwork rpn;
    readonly RegionHead head;

    /// <summary>The anchors of each feature-map cell: sizes 24, 40, 64 pixels × aspect ratios ½, 1, 2.</summary>
    public static AnchorGenerator DefaultAnchors() => new([24, 40, 64], [0.5f, 1, 2]);

    /// <param name="numClasses">object classes, without the background</param>
    /// <param name="inChannels">1 for grey pictures, 3 for colour</param>
    public FasterRCnn(int numClasses = 10, int inChannels = 1)
    {
        Models.ModelChecks.ClassesAndChannels("FasterRCnn", numClasses, inChannels);
        Classes = numClasses;
        backbone = RegisterModule("backbone", RegionBackbone.Create(inChannels));
        rpn = RegisterModule("rpn", new RegionProposalNetwork(RegionBackbone.Channels, DefaultAnchors()));
        head = RegisterModule("roi_heads", new RegionHead(RegionBackbone.Channels * PooledSize * PooledSize, 256, numClasses));
    }

    /// <summary>Cells per side of each pooled region.</summary>
    public const int PooledSize = 7;

    /// <inheritdoc/>
    public int Classes { get; }

    /// <summary>The region proposal network.</summary>
    public RegionProposalNetwork Rpn => rpn;

    /// <summary>The head's region labelling for training (0.5 / [0, 0.5)).</summary>
    public RegionMatcher Matcher { get; init; } = new(0.5f, 0.5f);

    /// <summary>The head's regions per picture and foreground share for training (64, ¼).</summary>
    public RegionSampler Sampler { get; init; } = new(64, 0.25f);

    /// <summary>Proposals (before NMS, after NMS) per picture in training.</summary>
    public (int PreNms, int PostNms) TrainingProposals { get; init; } = (600, 300);

    /// <summary>Proposals (before NMS, after NMS) per picture in detection.</summary>
    public (int PreNms, int PostNms) DetectionProposals { get; init; } = (300, 100);

    /// <summary>The feature map (N, 128, H/8, W/8) of pictures (N, C, H, W).</summary>
    protected override Tensor ForwardCore(Tensor input)
    {
        RegionTruths.CheckImages("FasterRCnn", input);
        return backbone.Forward(input);
    }

    /// <inheritdoc/>
    protected override int[] OutputShapeCore(int[] inputShape)
    {
        RegionTruths.CheckImages("FasterRCnn", inputShape);
        return backbone.OutputShape(inputShape);
    }

    /// <summary>The shapes of (pictures) → <c>features</c>, <c>objectness</c>, <c>rpn_deltas</c>; with RoIs, run the model instead.</summary>
    protected override IReadOnlyDictionary<string, int[]> OutputShapesCore(IReadOnlyList<int[]> inputShapes)
    {
        if (inputShapes.Count != 1) throw new ShapeInferenceNotSupportedException(this);
        var features = OutputShapeCore(inputShapes[0]);
        var (objectness, rpnDeltas) = rpn.PredictShapes(features);
        return new Dictionary<string, int[]> { ["features"] = features, ["objectness"] = objectness, ["rpn_deltas"] = rpnDeltas };
    }

    /// <summary>(pictures) → <c>features</c>, <c>objectness</c>, <c>rpn_deltas</c>; (pictures, RoIs (K, 5)) → <c>class_logits</c>, <c>box_deltas</c>.</summary>
    protected override TensorDict ForwardCore(IReadOnlyList<Tensor> inputs)
    {
        if (inputs.Count is not (1 or 2)) throw new ArgumentException($"FasterRCnn: takes (pictures) or (pictures, RoIs), got {inputs.Count} inputs.");
        var features = ForwardCore(inputs[0]);
        if (inputs.Count == 2)
        {
            var (logits, deltas) = Classify(features, inputs[1]);
            return new TensorDict([new("class_logits", logits), new("box_deltas", deltas)]);
        }
        var (objectness, rpnDeltas) = rpn.Predict(features);
        return new TensorDict([new("features", features), new("objectness", objectness), new("rpn_deltas", rpnDeltas)]);
    }

    (Tensor Logits, Tensor Deltas) Classify(Tensor features, Tensor rois)
    {
        var pooled = F.RoiAlign(features, rois, PooledSize, 1f / RegionBackbone.Stride, samplingRatio: 2);
        return head.Split(head.Forward(pooled.Reshape(pooled.Shape[0], -1)));
    }

    float[][] Propose(Tensor objectness, Tensor deltas, Size2 picture)
    {
        var (pre, post) = Training ? TrainingProposals : DetectionProposals;
        return rpn.Propose(objectness, deltas, picture, pre, post);
    }

    /// <inheritdoc/>
    public RegionDetectionLoss Loss(Tensor images, IReadOnlyList<BoundingBoxes> boxes)
    {
        var truths = RegionTruths.Of("FasterRCnn.Loss", images, boxes, Classes);
        var picture = new Size2(images.Shape[2], images.Shape[3]);
        var random = Generator.Current;
        var features = Forward(images);
        var (objectness, rpnDeltas) = rpn.Predict(features);
        var (rpnObject, rpnBox) = rpn.Loss(objectness, rpnDeltas, truths.Select(t => t.Boxes).ToArray(), picture, random);
        var proposals = Propose(objectness, rpnDeltas, picture);
        var (regions, labels, targets) = RegionTruths.Sample(proposals, truths, Matcher, Sampler, random);
        var (logits, deltas) = Classify(features, RegionTruths.Rois(regions));
        var (classification, box) = RegionLosses.RegionHead(logits, deltas, labels, targets);
        return new RegionDetectionLoss(classification + box + rpnObject + rpnBox, new Dictionary<string, Tensor>
        {
            ["cls_loss"] = classification, ["box_loss"] = box, ["rpn_obj_loss"] = rpnObject, ["rpn_box_loss"] = rpnBox,
        });
    }

    /// <inheritdoc/>
    public IReadOnlyList<DetectedObject>[] Detect(Tensor images, DetectionOptions? options = null)
    {
        RegionTruths.CheckImages("FasterRCnn.Detect", images);
        using var _ = Tensor.NoGrad();
        return RegionTruths.InChunks(images, chunk => DetectChunk(chunk, options));
    }

    IReadOnlyList<DetectedObject>[] DetectChunk(Tensor images, DetectionOptions? options)
    {
        var picture = new Size2(images.Shape[2], images.Shape[3]);
        var features = Forward(images);
        var (objectness, rpnDeltas) = rpn.Predict(features);
        var proposals = Propose(objectness, rpnDeltas, picture);
        if (proposals.All(p => p.Length == 0)) return proposals.Select(_ => (IReadOnlyList<DetectedObject>)[]).ToArray();
        var (logits, deltas) = Classify(features, RegionTruths.Rois(proposals));
        return RegionHeadDecoder.Decode(logits, deltas, proposals, picture, options);
    }
}
