using ConvKit.Data;
using ConvKit.NN;
using ConvKit.Ops;
using ConvKit.Training;

namespace ConvKit.Tests.Training;

/// <summary>The trainer with <see cref="SegmentationTask"/>: a tiny fully convolutional net learns bright squares; ignored pixels count nowhere; clear errors.</summary>
public class SegmentationTaskTests
{
    /// <summary>
    /// 16×16 grey pictures with one bright square (class 1) on a dark background (class 0). The one-pixel frame is
    /// labelled <see cref="Sample.IgnoreIndex"/> and painted bright in half the pictures, so a model that counted it
    /// as background would be misled.
    /// </summary>
    internal sealed class Squares(int count, int seed) : Dataset
    {
        public const int Size = 16;
        public override int Count => count;
        public override IReadOnlyList<string> Classes => ["background", "square"];
        public override bool HasTargets => true;

        public override Sample GetSample(int index)
        {
            var random = new Random(seed * 100_003 + index);
            int side = random.Next(4, 9), top = random.Next(1, Size - 1 - side), left = random.Next(1, Size - 1 - side);
            bool brightFrame = index % 2 == 0;
            var image = new float[Size * Size];
            var mask = new float[Size * Size];
            for (int y = 0; y < Size; y++)
                for (int x = 0; x < Size; x++)
                {
                    bool frame = y == 0 || x == 0 || y == Size - 1 || x == Size - 1;
                    bool inside = y >= top && y < top + side && x >= left && x < left + side;
                    float level = inside || (frame && brightFrame) ? 0.8f : 0.2f;
                    image[y * Size + x] = level + (float)(random.NextDouble() - 0.5) * 0.2f;
                    mask[y * Size + x] = frame ? Sample.IgnoreIndex : inside ? 1 : 0;
                }
            return new Sample(Tensor.FromArray(image, 1, Size, Size)) { Mask = Tensor.FromArray(mask, Size, Size) };
        }
    }

    static Module FullyConvolutional(int seed)
    {
        using var _ = Generator.Use(new Generator(seed));
        return new Sequential(new Conv2d(1, 8, 3, padding: 1), new ReLU(), new Conv2d(8, 2, 3, padding: 1));
    }

    [Fact]
    public void ATinyFullyConvolutionalNetLearnsTheSquares()
    {
        var model = FullyConvolutional(3);
        var task = new SegmentationTask { DiceWeight = 0.5f };
        var options = new TrainingOptions { Epochs = 6, BatchSize = 8, LearningRate = 0.01, Seed = 7 };
        var trainer = new Trainer(model, options, task: task);
        var result = trainer.Fit(new Squares(64, 1), new Squares(16, 2));

        Assert.Equal("miou", result.Monitor);
        Assert.Equal(["dice_loss", "loss", "miou", "pixel_accuracy"], result.History[0].Train.Keys.Order(StringComparer.Ordinal));
        var mious = result.History.Select(e => e.Validation!["miou"]).ToArray();
        Assert.True(mious[^1] > 0.8, $"validation mIoU {string.Join(", ", mious)}");
        Assert.True(result.History[^1].Validation!["pixel_accuracy"] > 0.9);
        Assert.Equal(mious.Max(), result.BestScore);
    }

    [Fact]
    public void IgnoredPixelsCountInNeitherTheLossNorTheMetrics()
    {
        var model = FullyConvolutional(4);
        var task = new SegmentationTask { ClassWeights = [0.5f, 2f] };
        task.CheckDataset(new Squares(4, 3));
        var batch = new DataLoader(new Squares(4, 3), 4).First();
        var step = task.Step(model, batch);

        // The loss equals the weighted cross-entropy of the 14×14 interior alone.
        const int inner = Squares.Size - 2;
        var interiorLogits = step.Outputs.Main.Narrow(2, 1, inner).Narrow(3, 1, inner);
        var interiorMasks = batch.Masks!.Narrow(1, 1, inner).Narrow(2, 1, inner);
        var expected = F.CrossEntropy(interiorLogits, interiorMasks, Tensor.FromArray([0.5f, 2f], 2));
        Assert.Equal(expected.Item(), step.Loss.Item(), 5);

        var metrics = task.CreateMetrics();
        foreach (var metric in metrics) metric.Update(batch, step);
        var miou = Assert.IsType<MeanIoU>(metrics[1]);
        Assert.Equal(4L * inner * inner, miou.Matrix.Total);
    }

    [Fact]
    public void MissingMasksAndMismatchedOutputsAreClearErrors()
    {
        var task = new SegmentationTask();
        var bars = new DataLoader(TrainerTests.Bars(4, 1), 4).First();
        var noMasks = Assert.Throws<InvalidOperationException>(() => task.Step(FullyConvolutional(1), bars));
        Assert.Contains("no masks", noMasks.Message);

        var batch = new DataLoader(new Squares(2, 1), 2).First();
        var strided = new Sequential(new Conv2d(1, 2, 3, stride: 2, padding: 1));
        var wrong = Assert.Throws<InvalidOperationException>(() => task.Step(strided, batch));
        Assert.Contains("[2, 2, 8, 8]", wrong.Message);
        Assert.Contains("[2, 16, 16]", wrong.Message);

        task.CheckDataset(new Squares(2, 1));
        var tooManyClasses = Assert.Throws<InvalidOperationException>(() => task.Step(new Sequential(new Conv2d(1, 3, 3, padding: 1)), batch));
        Assert.Contains("[2, 2, 16, 16]", tooManyClasses.Message);
    }
}
