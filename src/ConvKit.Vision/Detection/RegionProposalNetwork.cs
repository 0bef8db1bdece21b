using ConvKit.NN;
using ConvKit.Ops;

namespace ConvKit.Vision.Detection;

/// <summary>
/// Faster R-CNN's region proposal network (Ren, He, Girshick and Sun, 2015; torchvision's <c>RPNHead</c> and
/// <c>RegionProposalNetwork</c>): a 3×3 convolution and ReLU over the backbone's feature map, then two 1×1 convolutions
/// giving each of the A anchors of every cell (<see cref="AnchorGenerator"/>) an objectness logit (<c>cls_logits</c>,
/// (N, A, H, W)) and four deltas (<c>bbox_pred</c>, (N, 4A, H, W), <see cref="BoxCoder.RegionProposals"/>).
/// <list type="bullet">
/// <item>Training (<see cref="Loss"/>): anchors are labelled by IoU with the ground truth — foreground ≥ 0.7, background
/// &lt; 0.3, each object's best anchors foreground too, the rest ignored — and 256 per picture drawn, at most half
/// foreground; the loss is <see cref="RegionLosses.RegionProposals"/>.</item>
/// <item>Proposals (<see cref="Propose"/>): every anchor decoded and clipped to the picture, the pre-NMS top N
/// best by objectness kept, boxes under 1e-3 pixel dropped, non-maximum suppression at IoU <see cref="NmsIou"/>, and
/// the post-NMS top N kept. Proposals carry no gradient (approximate joint training: the head's loss
/// does not flow back into the proposals' coordinates).</item>
/// </list>
/// </summary>
public sealed class RegionProposalNetwork : Module
{
    readonly Conv2d conv, classLogits, boxPrediction;

    /// <param name="channels">the feature map's channels</param>
    /// <param name="anchors">the anchors of each cell</param>
    public RegionProposalNetwork(int channels, AnchorGenerator anchors)
    {
        Anchors = anchors;
        conv = RegisterModule("conv", new Conv2d(channels, channels, 3, padding: 1));
        classLogits = RegisterModule("cls_logits", new Conv2d(channels, anchors.PerCell, 1));
        boxPrediction = RegisterModule("bbox_pred", new Conv2d(channels, 4 * anchors.PerCell, 1));
        // torchvision's initialisation: N(0, 0.01²) weights and zero biases for all three convolutions.
        using (Tensor.NoGrad())
            foreach (var layer in new[] { conv, classLogits, boxPrediction })
            {
                layer.Weight.CopyFrom(Tensor.Randn(layer.Weight.Shape.ToArray(), Generator.Current) * 0.01f);
                layer.Bias!.CopyFrom(Tensor.Zeros(layer.Bias.Shape.ToArray()));
            }
    }

    /// <summary>The anchors of each cell.</summary>
    public AnchorGenerator Anchors { get; }

    /// <summary>How anchors are labelled for training (0.7 / 0.3, each object's best anchors kept).</summary>
    public RegionMatcher Matcher { get; init; } = new(0.7f, 0.3f, 0, KeepBestMatches: true);

    /// <summary>How many anchors each picture trains on, and the foreground share (256, ½).</summary>
    public RegionSampler Sampler { get; init; } = new(256, 0.5f);

    /// <summary>The NMS's IoU threshold among proposals.</summary>
    public float NmsIou { get; init; } = 0.7f;

    /// <summary>Objectness logits (N, A, H, W) of a feature map (N, C, H, W); <see cref="Predict"/> gives the deltas too.</summary>
    protected override Tensor ForwardCore(Tensor features) => Predict(features).Objectness;

    /// <summary>The objectness logits (N, A, H, W) and deltas (N, 4A, H, W) of a feature map (N, C, H, W).</summary>
    public (Tensor Objectness, Tensor Deltas) Predict(Tensor features)
    {
        var hidden = F.Relu(conv.Forward(features));
        return (classLogits.Forward(hidden), boxPrediction.Forward(hidden));
    }

    /// <inheritdoc/>
    protected override int[] OutputShapeCore(int[] inputShape) => PredictShapes(inputShape).Objectness;

    /// <summary>The shapes <see cref="Predict"/> gives, without computing: the children stated in the order it calls them.</summary>
    public (int[] Objectness, int[] Deltas) PredictShapes(int[] features)
    {
        var hidden = conv.OutputShape(features);
        return (classLogits.OutputShape(hidden), boxPrediction.OutputShape(hidden));
    }

    /// <summary>(N·H·W·A) logits and (N·H·W·A, 4) deltas in <see cref="AnchorGenerator.Anchors"/>' order, picture after picture.</summary>
    public static (Tensor Objectness, Tensor Deltas) Flatten(Tensor objectness, Tensor deltas)
    {
        int n = objectness.Shape[0], a = objectness.Shape[1], h = objectness.Shape[2], w = objectness.Shape[3];
        return (objectness.Permute(0, 2, 3, 1).Reshape(n * h * w * a),
            deltas.Reshape(n, a, 4, h, w).Permute(0, 3, 4, 1, 2).Reshape(n * h * w * a, 4));
    }

    /// <summary>The anchors (H·W·A·4) of an (H, W) feature map of a picture of <paramref name="picture"/> pixels.</summary>
    public float[] AnchorsFor(int featureHeight, int featureWidth, Size2 picture) =>
        Anchors.Anchors(featureHeight, featureWidth, picture.Height / featureHeight, picture.Width / featureWidth);

    /// <summary>The proposal network's loss terms on a batch (objectness, box).</summary>
    /// <param name="objectness">(N, A, H, W) from <see cref="Predict"/></param>
    /// <param name="deltas">(N, 4A, H, W)</param>
    /// <param name="truths">each picture's ground truth, (G·4) xyxy pixels</param>
    /// <param name="picture">the pictures' size</param>
    /// <param name="random">the anchor draws' source</param>
    public (Tensor Objectness, Tensor Box) Loss(Tensor objectness, Tensor deltas, IReadOnlyList<float[]> truths, Size2 picture, Random random)
    {
        int n = objectness.Shape[0], h = objectness.Shape[2], w = objectness.Shape[3];
        var anchors = AnchorsFor(h, w, picture);
        int perPicture = anchors.Length / 4;
        var foreground = new List<int>();
        var background = new List<int>();
        var targets = new List<float>();
        var delta = new float[4];
        for (int i = 0; i < n; i++)
        {
            var matches = Matcher.Match(anchors, truths[i]);
            var (positive, negative) = Sampler.Sample(matches, random);
            foreach (int a in positive)
            {
                BoxCoder.RegionProposals.Encode(truths[i].AsSpan(4 * matches[a], 4), anchors.AsSpan(4 * a, 4), delta);
                targets.AddRange(delta);
                foreground.Add(i * perPicture + a);
            }
            background.AddRange(negative.Select(a => i * perPicture + a));
        }
        var (flatObjectness, flatDeltas) = Flatten(objectness, deltas);
        return RegionLosses.RegionProposals(flatObjectness, flatDeltas, foreground.ToArray(), background.ToArray(), targets.ToArray());
    }

    /// <summary>Each picture's proposals, (P·4) xyxy pixels, by decreasing objectness (computed without gradient).</summary>
    /// <param name="objectness">(N, A, H, W) from <see cref="Predict"/></param>
    /// <param name="deltas">(N, 4A, H, W)</param>
    /// <param name="picture">the pictures' size, to clip to</param>
    /// <param name="preNmsTop">anchors kept by objectness before the NMS</param>
    /// <param name="postNmsTop">proposals kept after the NMS</param>
    public float[][] Propose(Tensor objectness, Tensor deltas, Size2 picture, int preNmsTop = 600, int postNmsTop = 300)
    {
        int n = objectness.Shape[0], h = objectness.Shape[2], w = objectness.Shape[3];
        var anchors = AnchorsFor(h, w, picture);
        int perPicture = anchors.Length / 4;
        var (flatObjectness, flatDeltas) = Flatten(objectness.Detach(), deltas.Detach());
        var scores = flatObjectness.ToArray();
        var allDeltas = flatDeltas.ToArray();
        var result = new float[n][];
        for (int i = 0; i < n; i++)
        {
            var order = Enumerable.Range(0, perPicture).OrderByDescending(a => scores[i * perPicture + a]).ThenBy(a => a).Take(preNmsTop).ToArray();
            var boxes = new List<float>(4 * order.Length);
            var kept = new List<float>(order.Length);
            var box = new float[4];
            foreach (int a in order)
            {
                BoxCoder.RegionProposals.Decode(allDeltas.AsSpan(4 * (i * perPicture + a), 4), anchors.AsSpan(4 * a, 4), box);
                BoxCoder.Clip(box, picture.Height, picture.Width);
                if (box[2] - box[0] < 1e-3f || box[3] - box[1] < 1e-3f) continue;
                boxes.AddRange(box);
                kept.Add(scores[i * perPicture + a]);
            }
            var survivors = BoxOps.Nms(boxes.ToArray(), kept.ToArray(), NmsIou).Take(postNmsTop).ToArray();
            result[i] = survivors.SelectMany(s => boxes.GetRange(4 * s, 4)).ToArray();
        }
        return result;
    }
}
