using ConvKit.Data;
using ConvKit.NN;
using ConvKit.Ops;
using ConvKit.Optim;
using ConvKit.Tests;
using ConvKit.Vision.Detection;
using ConvKit.Vision.Models;

namespace ConvKit.Vision.Tests.Detection;

/// <summary>
/// Sliding windows both ways: the convolutional implementation built from a window classifier's own (trained) weights
/// gives, window by window, the scores of cropping each window and classifying it — the course's 14×14 → 16×16 example,
/// larger and odd-sized canvases, batch norm's running statistics — and clear errors for what cannot slide.
/// </summary>
public class SlidingWindowsTests
{
    const double Tolerance = 1e-5;

    /// <summary>A few Adam steps on random windows and labels, so the weights (and batch norm's statistics) are not the initial ones.</summary>
    static void Train(WindowClassifier classifier, int steps, int seed)
    {
        var optimizer = new Adam(classifier.Parameters().ToList(), 1e-2);
        var (height, width) = (classifier.WindowSize.Height, classifier.WindowSize.Width);
        for (int step = 0; step < steps; step++)
        {
            var windows = Tensor.Rand([8, classifier.InChannels, height, width], seed: seed + step);
            var labels = Tensor.FromArray([.. Enumerable.Range(0, 8).Select(i => (float)((i + step) % classifier.Classes))], 8);
            optimizer.ZeroGrad();
            F.CrossEntropy(classifier.Forward(windows), labels).Backward();
            optimizer.Step();
        }
        classifier.Eval();
    }

    /// <summary>Contrasty noise, so the windows' scores differ from place to place.</summary>
    static Tensor Picture(int[] shape, int seed) => Tensor.Randn(shape, seed: seed) * 3f;

    /// <summary>Window (row, column)'s scores by hand: the crop at (row·stride, column·stride) through the classifier, softmax.</summary>
    static float[] CropScores(WindowClassifier classifier, Tensor pictures, int picture, int row, int column)
    {
        var (window, stride) = (classifier.WindowSize, classifier.Stride);
        var crop = pictures.Narrow(0, picture, 1).Narrow(2, row * stride.Height, window.Height).Narrow(3, column * stride.Width, window.Width);
        using var _ = Tensor.NoGrad();
        return F.Softmax(classifier.Forward(Tensor.FromArray(crop.ToArray(), [.. crop.Shape])), 1).ToArray();
    }

    static void AssertSameScoresWindowByWindow(WindowClassifier classifier, Tensor pictures, int rows, int columns)
    {
        var naive = SlidingWindows.Naive(classifier, pictures, batchSize: 7);
        var convolutional = SlidingWindows.Convolutional(classifier, pictures);
        int n = pictures.Shape[0], classes = classifier.Classes;
        Assert.Equal([n, classes, rows, columns], naive.Shape);
        Assert.Equal([n, classes, rows, columns], convolutional.Shape);
        var (a, b) = (naive.ToArray(), convolutional.ToArray());
        for (int picture = 0; picture < n; picture++)
            for (int row = 0; row < rows; row++)
                for (int column = 0; column < columns; column++)
                {
                    var expected = CropScores(classifier, pictures, picture, row, column);
                    for (int c = 0; c < classes; c++)
                    {
                        int at = ((picture * classes + c) * rows + row) * columns + column;
                        string where = $"picture {picture}, window ({row}, {column}), class {c}";
                        Assert.True(Math.Abs(a[at] - expected[c]) <= Tolerance, $"{where}: naive {a[at]} vs crop {expected[c]}");
                        Assert.True(Math.Abs(b[at] - expected[c]) <= Tolerance, $"{where}: convolutional {b[at]} vs crop {expected[c]}");
                    }
                }
        // The scores are probabilities, and not all alike (the check would be empty if every window scored the same).
        for (int picture = 0; picture < n; picture++)
            for (int at = 0; at < rows * columns; at++)
                Assert.Equal(1, Enumerable.Range(0, classes).Sum(c => (double)b[(picture * classes + c) * rows * columns + at]), 4);
        Assert.True(b.Max() - b.Min() > 0.02, $"the windows' scores should differ (from {b.Min()} to {b.Max()})");
    }

    [Fact]
    public void TheCourseExampleGivesTheSameFourWindowsBothWays()
    {
        using var seeded = Generator.Use(new Generator(14));
        var classifier = WindowClassifier.Course();
        Assert.Equal(new Size2(14, 14), classifier.WindowSize);
        Assert.Equal(new Size2(2, 2), classifier.Stride);
        Assert.Equal((16, 5, 5), classifier.FeatureShape);
        Assert.Equal(4, classifier.Classes);
        Train(classifier, 5, 100);

        // 14×14×3 → 1×1×4 and 16×16×3 → 2×2×4: the four windows at a stride of 2.
        var window = Picture([1, 3, 14, 14], 1);
        using (Tensor.NoGrad()) Assert.Equal([1, 4, 1, 1], classifier.ToConvolutional().Forward(window).Shape);
        var picture = Picture([1, 3, 16, 16], 2);
        using (Tensor.NoGrad()) Assert.Equal([1, 4, 2, 2], classifier.ToConvolutional().Forward(picture).Shape);
        AssertSameScoresWindowByWindow(classifier, picture, 2, 2);
        // On the 14×14 window itself, the one position is the classifier's own answer.
        using (Tensor.NoGrad())
            Close.All([.. F.Softmax(classifier.Forward(window), 1).ToArray().Select(v => (double)v)], SlidingWindows.Convolutional(classifier, window).ToArray(), Tolerance, 1e-7, "14×14");
    }

    [Fact]
    public void TheCourseNetworkAgreesOnLargerAndOddSizedCanvases()
    {
        using var seeded = Generator.Use(new Generator(15));
        var classifier = WindowClassifier.Course();
        Train(classifier, 3, 200);
        // 28×28: 8×8 windows; 17×22: (17 − 14) / 2 + 1 = 2 rows (the last pixel row starts no window), 5 columns.
        AssertSameScoresWindowByWindow(classifier, Picture([2, 3, 28, 28], 3), 8, 8);
        AssertSameScoresWindowByWindow(classifier, Picture([1, 3, 17, 22], 4), 2, 5);
    }

    [Fact]
    public void ABatchNormalisedClassifierAgreesOnA64PixelCanvas()
    {
        using var seeded = Generator.Use(new Generator(16));
        var classifier = WindowClassifier.Small(classes: 5);
        Assert.Equal(new Size2(4, 4), classifier.Stride);
        Assert.Equal((64, 4, 4), classifier.FeatureShape);
        Train(classifier, 3, 300);
        var bn = classifier.Features.NamedModules().Select(m => m.Module).OfType<BatchNorm2d>().First();
        Assert.NotEqual(new float[bn.RunningMean!.Numel], bn.RunningMean.ToArray()); // running statistics were learnt
        // 64×64: (64 − 28) / 4 + 1 = 10 windows each way; 30 × 37 leaves pixels no window starts from.
        AssertSameScoresWindowByWindow(classifier, Picture([1, 1, 64, 64], 5), 10, 10);
        AssertSameScoresWindowByWindow(classifier, Picture([2, 1, 30, 37], 6), 1, 3);
    }

    [Fact]
    public void GeluLayersSlideToo()
    {
        // GELU (exact and tanh) in the features and between the linear layers; 14×14 windows at stride 2.
        using var seeded = Generator.Use(new Generator(17));
        var classifier = new WindowClassifier(
            new Sequential(new Conv2d(3, 6, 3), new GELU(), new MaxPool2d(2), new Conv2d(6, 8, 3), new GELU(tanhApproximation: true)),
            new Sequential(new Linear(8 * 4 * 4, 16), new GELU(), new Linear(16, 3)), 3, 14);
        Train(classifier, 3, 400);
        AssertSameScoresWindowByWindow(classifier, Picture([1, 3, 20, 21], 7), 4, 4);
    }

    [Fact]
    public void TheConvolutionalFormReadsTheClassifiersWeightsAtEachForward()
    {
        using var seeded = Generator.Use(new Generator(17));
        var classifier = WindowClassifier.Course();
        classifier.Eval();
        var convolutional = classifier.ToConvolutional();
        Assert.Same(classifier, convolutional.Window);
        Assert.Empty(convolutional.Parameters().Except(classifier.Parameters()));
        var picture = Picture([1, 3, 16, 16], 7);
        using var _ = Tensor.NoGrad();
        var before = convolutional.Forward(picture).ToArray();
        var last = classifier.Classifier.NamedChildren().Last().Module as Linear;
        last!.Bias!.CopyFrom(last.Bias + 1f);
        var after = convolutional.Forward(picture).ToArray();
        for (int i = 0; i < before.Length; i++) Assert.Equal(before[i] + 1f, after[i], 4);
    }

    [Fact]
    public void DetectKeepsTheBestWindowPerPlaceAndClass()
    {
        using var seeded = Generator.Use(new Generator(18));
        var classifier = WindowClassifier.Course(classes: 3);
        // One picture, 2×3 windows of 14 at stride 2; class 0 is the background.
        var scores = new float[3 * 2 * 3];
        void Set(int row, int column, float background, float a, float b)
        {
            scores[(0 * 2 + row) * 3 + column] = background;
            scores[(1 * 2 + row) * 3 + column] = a;
            scores[(2 * 2 + row) * 3 + column] = b;
        }
        Set(0, 0, 0.1f, 0.8f, 0.1f);   // class 1 at (0, 0)
        Set(0, 1, 0.2f, 0.7f, 0.1f);   // class 1 at (0, 2): overlaps the first by IoU 168 / 224 = 0.75, suppressed
        Set(0, 2, 0.9f, 0.05f, 0.05f); // background
        Set(1, 0, 0.3f, 0.1f, 0.6f);   // class 2 at (2, 0): another class, kept
        Set(1, 1, 0.5f, 0.3f, 0.2f);   // best non-background 0.3, under the threshold
        Set(1, 2, 0.1f, 0.15f, 0.75f); // class 2 at (2, 4): overlaps (2, 0) by 140 / 252 = 0.56, kept at 0.6
        var detections = SlidingWindows.Detect(Tensor.FromArray(scores, 1, 3, 2, 3), classifier, scoreThreshold: 0.5f, iouThreshold: 0.6f, backgroundClass: 0)[0];
        Assert.Equal([(1, 0.8f, 0f, 0f), (2, 0.75f, 4f, 2f), (2, 0.6f, 0f, 2f)], detections.Select(d => (d.Class, d.Score, d.X1, d.Y1)));
        Assert.All(detections, d => Assert.Equal((14f, 14f), (d.X2 - d.X1, d.Y2 - d.Y1)));
    }

    [Fact]
    public void WhatCannotSlideIsAClearError()
    {
        using var seeded = Generator.Use(new Generator(19));
        var padded = Assert.Throws<ArgumentException>(() => new WindowClassifier(
            new Sequential(new Conv2d(1, 4, 3, padding: 1), new MaxPool2d(2)), new Sequential(new Linear(4 * 7 * 7, 2)), 1, 14));
        Assert.Contains("feature layer '0' pads by (1, 1)", padded.Message);
        Assert.Contains("cannot slide over a picture", Assert.Throws<ArgumentException>(() => new WindowClassifier(
            new Sequential(new Conv2d(1, 4, 3), new AdaptiveAvgPool2d(2)), new Sequential(new Linear(16, 2)), 1, 14)).Message);
        Assert.Contains("the first linear layer reads 100 features, but a 14×14 window gives features of shape [4, 12, 12] = 576", Assert.Throws<ArgumentException>(() => new WindowClassifier(
            new Sequential(new Conv2d(1, 4, 3)), new Sequential(new Linear(100, 2)), 1, 14)).Message);
        Assert.Contains("must end with a Linear layer", Assert.Throws<ArgumentException>(() => new WindowClassifier(
            new Sequential(new Conv2d(1, 4, 3)), new Sequential(new Linear(576, 2), new ReLU()), 1, 14)).Message);
        Assert.Contains("classifier layer '0' is a Flatten", Assert.Throws<ArgumentException>(() => new WindowClassifier(
            new Sequential(new Conv2d(1, 4, 3)), new Sequential(new Flatten(), new Linear(576, 2)), 1, 14)).Message);

        var classifier = WindowClassifier.Course();
        classifier.Eval();
        Assert.Contains("WindowClassifier: the input must be (N, 3, 14, 14) windows, got [1, 3, 16, 16]",
            Assert.Throws<ArgumentException>(() => classifier.Forward(Tensor.Zeros(1, 3, 16, 16))).Message);
        Assert.Contains("a 12×20 picture is smaller than the 14×14 window",
            Assert.Throws<ArgumentException>(() => SlidingWindows.Convolutional(classifier, Tensor.Zeros(1, 3, 12, 20))).Message);
        Assert.Contains("a 12×20 picture is smaller than the 14×14 window",
            Assert.Throws<ArgumentException>(() => SlidingWindows.Naive(classifier, Tensor.Zeros(1, 3, 12, 20))).Message);
        Assert.Contains("the input must be (N, 3, H, W) pictures, got [1, 1, 16, 16]",
            Assert.Throws<ArgumentException>(() => SlidingWindows.Convolutional(classifier, Tensor.Zeros(1, 1, 16, 16))).Message);
        Assert.Contains("the pictures must be (N, 3, H, W), got [3, 16, 16]",
            Assert.Throws<ArgumentException>(() => SlidingWindows.Naive(classifier, Tensor.Zeros(3, 16, 16))).Message);
        Assert.Contains("the scores must be (N, 4, rows, columns), got [1, 3, 2, 2]",
            Assert.Throws<ArgumentException>(() => SlidingWindows.Detect(Tensor.Zeros(1, 3, 2, 2), classifier)).Message);
    }
}
