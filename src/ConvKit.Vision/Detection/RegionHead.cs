using ConvKit.NN;
using ConvKit.Ops;

namespace ConvKit.Vision.Detection;

/// <summary>
/// The Fast R-CNN box head (torchvision's <c>TwoMLPHead</c> + <c>FastRCNNPredictor</c>): each region's features (K, D)
/// go through two fully connected ReLU layers (<c>fc6</c>, <c>fc7</c>), then <c>cls_score</c> gives (K, C + 1) class
/// logits (index 0 is the background) and <c>bbox_pred</c> (K, 4·(C + 1)) class-specific deltas
/// (<see cref="BoxCoder.RegionHead"/>), the four of class c at columns 4c … 4c + 3. <see cref="Module.Forward"/> returns
/// both side by side, (K, 5·(C + 1)); <see cref="Split"/> separates them.
/// </summary>
public sealed class RegionHead : Module
{
    readonly Linear fc6, fc7, classScore, boxPrediction;

    /// <param name="inFeatures">D, the features of one region (channels × pooled height × pooled width)</param>
    /// <param name="hidden">the width of fc6 and fc7</param>
    /// <param name="numClasses">object classes C, without the background</param>
    public RegionHead(int inFeatures, int hidden, int numClasses)
    {
        if (inFeatures < 1 || hidden < 1 || numClasses < 1)
            throw new ArgumentException($"RegionHead: inFeatures ({inFeatures}), hidden ({hidden}) and numClasses ({numClasses}) must be positive.");
        Classes = numClasses;
        InFeatures = inFeatures;
        fc6 = RegisterModule("fc6", new Linear(inFeatures, hidden));
        fc7 = RegisterModule("fc7", new Linear(hidden, hidden));
        classScore = RegisterModule("cls_score", new Linear(hidden, numClasses + 1));
        boxPrediction = RegisterModule("bbox_pred", new Linear(hidden, 4 * (numClasses + 1)));
        // Small box deltas at the start (the paper's N(0, 0.001²)): the first proposals' boxes are kept as proposed.
        using (Tensor.NoGrad())
        {
            boxPrediction.Weight.CopyFrom(Tensor.Randn(boxPrediction.Weight.Shape.ToArray(), Generator.Current) * 0.001f);
            boxPrediction.Bias!.CopyFrom(Tensor.Zeros(boxPrediction.Bias.Shape.ToArray()));
        }
    }

    /// <summary>Object classes C (the logits have C + 1 columns).</summary>
    public int Classes { get; }

    /// <summary>D, the features each region brings.</summary>
    public int InFeatures { get; }

    /// <summary>(K, 5·(C + 1)) of (K, D): class logits, then box deltas.</summary>
    protected override Tensor ForwardCore(Tensor input)
    {
        if (input.Rank != 2 || input.Shape[1] != InFeatures)
            throw new ArgumentException($"RegionHead: expected region features (K, {InFeatures}), got {Models.ModelChecks.Format(input.Shape)}.");
        var hidden = F.Relu(fc7.Forward(F.Relu(fc6.Forward(input))));
        return F.Concat([classScore.Forward(hidden), boxPrediction.Forward(hidden)], 1);
    }

    /// <inheritdoc/>
    protected override int[] OutputShapeCore(int[] inputShape)
    {
        if (inputShape.Length != 2 || inputShape[1] != InFeatures)
            throw new ArgumentException($"RegionHead: expected region features (K, {InFeatures}), got {Models.ModelChecks.Format(inputShape)}.");
        var hidden = fc7.OutputShape(fc6.OutputShape(inputShape));
        return ShapeInference.Concat([classScore.OutputShape(hidden), boxPrediction.OutputShape(hidden)], 1);
    }

    /// <summary>The class logits (K, C + 1) and box deltas (K, 4·(C + 1)) of the head's output.</summary>
    public (Tensor Logits, Tensor Deltas) Split(Tensor output) =>
        (F.Narrow(output, 1, 0, Classes + 1), F.Narrow(output, 1, Classes + 1, 4 * (Classes + 1)));
}
