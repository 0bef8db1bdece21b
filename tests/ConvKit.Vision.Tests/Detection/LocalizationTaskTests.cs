using ConvKit.Data;
using ConvKit.NN;
using ConvKit.Training;
using ConvKit.Vision.Detection;

namespace ConvKit.Vision.Tests.Detection;

/// <summary>The trainer with <see cref="LocalizationTask"/>: its metrics on known outputs, a localiser that learns, clear errors.</summary>
public class LocalizationTaskTests
{
    /// <summary>
    /// 32×32 black pictures holding one square 8–16 pixels a side — class 0 bright (0.9), class 1 dim (0.45) — or, one
    /// in five, nothing. Each follows from (seed, index).
    /// </summary>
    sealed class Squares(int count, int seed) : Dataset
    {
        public const int Size = 32;
        public override int Count => count;
        public override IReadOnlyList<string> Classes => ["bright", "dim"];
        public override bool HasTargets => true;

        public override Sample GetSample(int index)
        {
            var random = new Random(seed * 7919 + index);
            var image = new float[Size * Size];
            if (index % 5 == 4) return new Sample(Tensor.FromArray(image, 1, Size, Size)) { Boxes = BoundingBoxes.Empty(Size, Size) };
            int side = random.Next(8, 17), x = random.Next(0, Size - side + 1), y = random.Next(0, Size - side + 1), label = index % 2;
            for (int r = y; r < y + side; r++)
                for (int c = x; c < x + side; c++) image[r * Size + c] = label == 0 ? 0.9f : 0.45f;
            return new Sample(Tensor.FromArray(image, 1, Size, Size)) { Boxes = new BoundingBoxes([x, y, x + side, y + side], [label], BoxFormat.Xyxy, Size, Size) };
        }
    }

    /// <summary>A model that answers the same rows whatever the pictures.</summary>
    sealed class Fixed(float[] rows, int length) : Module
    {
        protected override Tensor ForwardCore(Tensor input) => Tensor.FromArray(rows, input.Shape[0], length);
    }

    [Fact]
    public void TheMetricsMeasureKnownAnswers()
    {
        // Three 20×20 pictures of 2 classes: an object at (2, 2)–(12, 12) of class 1, one at (10, 0)–(20, 10) of class 0, none.
        var boxes = new[]
        {
            new BoundingBoxes([2f, 2, 12, 12], [1], BoxFormat.Xyxy, 20, 20),
            new BoundingBoxes([10f, 0, 20, 10], [0], BoxFormat.Xyxy, 20, 20),
            BoundingBoxes.Empty(20, 20),
        };
        var batch = new Batch(Tensor.Zeros(3, 1, 20, 20), Tensor.Zeros(0), [0, 1, 2]) { Boxes = boxes };
        // Answers (logistic: pc and class are logits): the first box exact, class 1 right, pc σ(1) = 0.73 right; the
        // second box 5 pixels too low (IoU 50 / 150 = 1/3), class 1 wrong, pc σ(−1) = 0.27 wrong; the third pc 0.12, right.
        float[] rows =
        [
            1f, 0.35f, 0.35f, 0.5f, 0.5f, -1, 1,
            -1f, 0.75f, 0.5f, 0.5f, 0.5f, -2, 2,
            -2f, 0.5f, 0.5f, 0.1f, 0.1f, 0, 0,
        ];
        var task = new LocalizationTask();
        var step = task.Step(new Fixed(rows, 7), batch);
        var metrics = task.CreateMetrics().ToDictionary(m => m.Name);
        foreach (var metric in metrics.Values) metric.Update(batch, step);
        Assert.Equal(["mean_iou", "class_accuracy", "pc_accuracy"], metrics.Keys);
        Assert.Equal((1 + 1 / 3.0) / 2, metrics["mean_iou"].Compute(), 5);
        Assert.Equal(0.5, metrics["class_accuracy"].Compute(), 10);
        Assert.Equal(2 / 3.0, metrics["pc_accuracy"].Compute(), 10);
        Assert.Equal(["pc_loss", "box_loss", "class_loss"], step.Terms.Keys);
        Assert.Equal("class_accuracy", task.Monitor);

        // The state round-trips (a resumed epoch reports the same numbers).
        var copy = new LocalizationTask().CreateMetrics()[0];
        copy.State = metrics["mean_iou"].State;
        Assert.Equal(metrics["mean_iou"].Compute(), copy.Compute());
    }

    [Fact]
    public void ALocalizerLearnsWhereAndWhatTheSquaresAre()
    {
        using var seeded = Generator.Use(new Generator(31));
        var model = new Localizer(numClasses: 2, inChannels: 1, inputSize: Squares.Size, width: 8, hidden: 64, dropout: 0);
        var train = new Squares(160, 1);
        var test = new Squares(40, 2);
        var task = new LocalizationTask { Loss = new LocalizationLoss { BoxWeight = 5 } };
        var options = new TrainingOptions { Epochs = 12, BatchSize = 16, LearningRate = 3e-3, Seed = 3 };
        var untrained = new Trainer(model, options, task: task).Evaluate(test);
        var trainer = new Trainer(model, options, task: task);
        var result = trainer.Fit(train, test);
        var final = result.History[^1].Validation!;
        Assert.True(final["loss"] < untrained["loss"] / 3, $"test loss {final["loss"]} (untrained {untrained["loss"]})");
        Assert.True(final["mean_iou"] > 0.6, $"mean IoU {final["mean_iou"]} (untrained {untrained["mean_iou"]})");
        Assert.True(final["class_accuracy"] >= 0.9, $"class accuracy {final["class_accuracy"]}");
        Assert.True(final["pc_accuracy"] >= 0.95, $"pc accuracy {final["pc_accuracy"]}");
    }

    [Fact]
    public void WrongModelsAndDatasetsAreClearErrors()
    {
        var task = new LocalizationTask();
        var boxes = new[] { new BoundingBoxes([1f, 1, 5, 5], [1], BoxFormat.Xyxy, 8, 8) };
        var batch = new Batch(Tensor.Zeros(1, 1, 8, 8), Tensor.Zeros(0), [0]) { Boxes = boxes };
        task.CheckDataset(new Squares(4, 0));
        var wrong = Assert.Throws<InvalidOperationException>(() => task.Step(new Fixed(new float[9], 9), batch));
        Assert.Contains("LocalizationTask: the model's output has shape [1, 9], but a localiser of 2 classes must give [1, 5 + classes]", wrong.Message);
        Assert.Contains("the batch has no boxes", Assert.Throws<InvalidOperationException>(() => task.Step(new Fixed(new float[7], 7), batch with { Boxes = null })).Message);
        Assert.Contains("the dataset's samples have no boxes", Assert.Throws<ArgumentException>(() => task.CheckDataset(new Labelled())).Message);
        var two = batch with { Boxes = [new BoundingBoxes([1f, 1, 5, 5, 2, 2, 6, 6], [1, 0], BoxFormat.Xyxy, 8, 8)] };
        Assert.Contains("the picture holds 2 boxes", Assert.Throws<ArgumentException>(() => task.Step(new Fixed(new float[7], 7), two)).Message);
    }

    /// <summary>A classification dataset: labels, no boxes.</summary>
    sealed class Labelled : Dataset
    {
        public override int Count => 2;
        public override IReadOnlyList<string> Classes => ["a", "b"];
        public override Sample GetSample(int index) => new(Tensor.Zeros(1, 16, 16)) { Label = index };
    }
}
