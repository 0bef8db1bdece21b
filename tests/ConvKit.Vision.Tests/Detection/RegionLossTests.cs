using ConvKit.Data;
using ConvKit.Tests.Autograd;
using ConvKit.Training;
using ConvKit.Vision.Detection;

namespace ConvKit.Vision.Tests.Detection;

/// <summary>
/// The R-CNN family's losses: values computed by hand (cross-entropy, smooth L1 at β = 1/9 on the foreground's own
/// class, divided by the sampled count), finite-difference gradients, and clear errors for bad shapes and boxes.
/// </summary>
public class RegionLossTests
{
    // Three regions, two classes (+ background): region 0 background, region 1 class 2 (label 2), region 2 class 1 (label 1).
    static readonly int[] Labels = [0, 2, 1];
    static readonly float[] LogitValues = [0.5f, -0.3f, 0.2f, -1.0f, 0.4f, 1.2f, 0.1f, 0.9f, -0.6f];
    static readonly float[] DeltaValues = Enumerable.Range(0, 36).Select(i => MathF.Sin(i * 1.7f)).ToArray();
    // Differences (prediction − target) of the foreground's own four deltas: some inside β = 1/9, some beyond, none near the kink.
    static readonly float[] Differences = [0.03f, -0.05f, 0.4f, -0.8f, 0.02f, 0.6f, -0.3f, -0.04f];

    static float[] Targets()
    {
        var targets = new float[12];
        int f = 0;
        for (int k = 0; k < 3; k++)
            if (Labels[k] > 0)
                for (int j = 0; j < 4; j++, f++) targets[4 * k + j] = DeltaValues[12 * k + 4 * Labels[k] + j] - Differences[f];
        return targets;
    }

    [Fact]
    public void TheHeadLossIsCrossEntropyPlusTheForegroundsSmoothL1OverTheSampledCount()
    {
        var (classification, box) = RegionLosses.RegionHead(Tensor.FromArray(LogitValues, 3, 3), Tensor.FromArray(DeltaValues, 3, 12), Labels, Targets());
        double crossEntropy = 0;
        for (int k = 0; k < 3; k++)
        {
            double sum = 0;
            for (int c = 0; c < 3; c++) sum += Math.Exp(LogitValues[3 * k + c]);
            crossEntropy -= Math.Log(Math.Exp(LogitValues[3 * k + Labels[k]]) / sum);
        }
        const double beta = 1.0 / 9;
        double smooth = Differences.Sum(d => Math.Abs(d) < beta ? 0.5 * d * d / beta : Math.Abs(d) - 0.5 * beta);
        Assert.Equal(crossEntropy / 3, classification.Item(), 5);
        Assert.Equal(smooth / 3, box.Item(), 5);
    }

    [Fact]
    public void TheHeadLossGradientMatchesFiniteDifferences() =>
        GradCheck.Check(x =>
        {
            var (classification, box) = RegionLosses.RegionHead(x[0], x[1], Labels, Targets());
            return classification + box * 2f;
        }, Tensor.FromArray(LogitValues, 3, 3), Tensor.FromArray(DeltaValues, 3, 12));

    [Fact]
    public void TheProposalLossIsBinaryCrossEntropyOfTheSampledAnchorsPlusTheForegroundsSmoothL1()
    {
        float[] objectness = [1.5f, -0.5f, 0.3f, -2.0f, 0.8f];
        var deltas = Enumerable.Range(0, 20).Select(i => MathF.Cos(i * 0.9f)).ToArray();
        int[] foreground = [4, 0], background = [3];   // anchors 1 and 2 not drawn
        float[] differences = [0.02f, -0.3f, 0.5f, 0.06f, -0.9f, 0.04f, 0.2f, -0.07f];
        var targets = new float[8];
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 4; j++) targets[4 * i + j] = deltas[4 * foreground[i] + j] - differences[4 * i + j];

        var (objectLoss, box) = RegionLosses.RegionProposals(Tensor.FromArray(objectness, 5), Tensor.FromArray(deltas, 5, 4), foreground, background, targets);
        static double Softplus(double x) => Math.Log(1 + Math.Exp(x));
        double bce = (Softplus(-objectness[4]) + Softplus(-objectness[0]) + Softplus(objectness[3])) / 3;
        const double beta = 1.0 / 9;
        double smooth = differences.Sum(d => Math.Abs(d) < beta ? 0.5 * d * d / beta : Math.Abs(d) - 0.5 * beta);
        Assert.Equal(bce, objectLoss.Item(), 5);
        Assert.Equal(smooth / 3, box.Item(), 5);

        GradCheck.Check(x =>
        {
            var (o, b) = RegionLosses.RegionProposals(x[0], x[1], foreground, background, targets);
            return o + b;
        }, Tensor.FromArray(objectness, 5), Tensor.FromArray(deltas, 5, 4));
    }

    [Fact]
    public void NoForegroundGivesAZeroBoxTermThatStillReachesTheDeltas()
    {
        var deltas = Tensor.FromArray(DeltaValues, 3, 12);
        deltas.RequiresGrad = true;
        var (_, box) = RegionLosses.RegionHead(Tensor.FromArray(LogitValues, 3, 3), deltas, [0, 0, 0], new float[12]);
        Assert.Equal(0f, box.Item());
        box.Backward();
        Assert.All(deltas.Grad!.ToArray(), g => Assert.Equal(0f, g));
    }

    [Fact]
    public void BadShapesAndBoxesAreClearErrors()
    {
        Assert.Contains("expected logits (K, C + 1) and deltas (K, 4·(C + 1)) for K = 3",
            Assert.Throws<ArgumentException>(() => RegionLosses.RegionHead(Tensor.Zeros(3, 3), Tensor.Zeros(3, 8), Labels, new float[12])).Message);
        Assert.Contains("expected objectness (A) and deltas (A, 4)",
            Assert.Throws<ArgumentException>(() => RegionLosses.RegionProposals(Tensor.Zeros(5), Tensor.Zeros(4, 4), [0], [], new float[4])).Message);

        using var seeded = Generator.Use(new Generator(1));
        var model = new FasterRCnn(numClasses: 2);
        var images = Tensor.Zeros(1, 1, 64, 64);
        Assert.Contains("picture 0's boxes belong to a 32×32 canvas, but the pictures are 64×64",
            Assert.Throws<ArgumentException>(() => model.Loss(images, [new BoundingBoxes([1f, 1, 9, 9], [0], BoxFormat.Xyxy, 32, 32)])).Message);
        Assert.Contains("class 2, outside 0 … 1",
            Assert.Throws<ArgumentException>(() => model.Loss(images, [new BoundingBoxes([1f, 1, 9, 9], [2], BoxFormat.Xyxy, 64, 64)])).Message);
        Assert.Contains("2 pictures' boxes for a batch of 1",
            Assert.Throws<ArgumentException>(() => model.Loss(images, [BoundingBoxes.Empty(64, 64), BoundingBoxes.Empty(64, 64)])).Message);
        Assert.Contains("expected pictures (N, C, H, W)", Assert.Throws<ArgumentException>(() => model.Detect(Tensor.Zeros(1, 64, 64))).Message);
        Assert.Contains("expected warped regions (K, 1, 32, 32)", Assert.Throws<ArgumentException>(() => new RCnn(2).Forward(Tensor.Zeros(1, 1, 64, 64))).Message);
        Assert.Contains("expected pictures (N, 1 or 3, H, W)", Assert.Throws<ArgumentException>(() => new FastRCnn(2, 2).Detect(Tensor.Zeros(1, 2, 64, 64))).Message);
    }

    [Fact]
    public void APictureWithoutObjectsTrainsOnBackgroundOnly()
    {
        using var seeded = Generator.Use(new Generator(2));
        var model = new FasterRCnn(numClasses: 2);
        var loss = model.Loss(Tensor.Rand([1, 1, 64, 64], 3), [BoundingBoxes.Empty(64, 64)]);
        Assert.True(float.IsFinite(loss.Loss.Item()));
        Assert.Equal(0f, loss.Terms["box_loss"].Item());
        Assert.Equal(0f, loss.Terms["rpn_box_loss"].Item());
    }
}
