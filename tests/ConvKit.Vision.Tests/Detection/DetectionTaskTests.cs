using ConvKit.Data;
using ConvKit.Training;
using ConvKit.Vision.Detection;

namespace ConvKit.Vision.Tests.Detection;

/// <summary>The trainer with <see cref="DetectionTask"/>: yolo-small learns to find two kinds of rectangles; clear errors.</summary>
public class DetectionTaskTests
{
    /// <summary>
    /// 64×64 black pictures with one or two non-overlapping rectangles 12–30 pixels a side: class 0 bright (0.9), class
    /// 1 dim (0.45). Each picture's boxes follow from (seed, index).
    /// </summary>
    internal sealed class Rectangles(int count, int seed) : Dataset
    {
        public const int Size = 64;
        public override int Count => count;
        public override IReadOnlyList<string> Classes => ["bright", "dim"];
        public override bool HasTargets => true;

        public override Sample GetSample(int index)
        {
            var random = new Random(seed * 1009 + index);
            var image = new float[Size * Size];
            var boxes = new List<float>();
            var labels = new List<int>();
            int objects = 1 + index % 2;
            while (labels.Count < objects)
            {
                int width = random.Next(12, 31), height = random.Next(12, 31);
                int x = random.Next(0, Size - width + 1), y = random.Next(0, Size - height + 1);
                bool overlaps = false;
                for (int k = 0; k < labels.Count; k++)
                    overlaps |= x < boxes[4 * k + 2] + 2 && boxes[4 * k] < x + width + 2 && y < boxes[4 * k + 3] + 2 && boxes[4 * k + 1] < y + height + 2;
                if (overlaps) continue;
                int label = (index + labels.Count) % 2;
                for (int r = y; r < y + height; r++)
                    for (int c = x; c < x + width; c++) image[r * Size + c] = label == 0 ? 0.9f : 0.45f;
                boxes.AddRange([x, y, x + width, y + height]);
                labels.Add(label);
            }
            return new Sample(Tensor.FromArray(image, 1, Size, Size)) { Boxes = new BoundingBoxes([.. boxes], [.. labels], BoxFormat.Xyxy, Size, Size) };
        }
    }

    /// <summary>A classification dataset: labels, no boxes.</summary>
    sealed class Labelled : Dataset
    {
        public override int Count => 2;
        public override IReadOnlyList<string> Classes => ["a", "b"];
        public override Sample GetSample(int index) => new(Tensor.Zeros(1, 16, 16)) { Label = index };
    }

    [Fact]
    public void YoloSmallLearnsToFindTheRectangles()
    {
        using var seeded = Generator.Use(new Generator(21));
        var model = new YoloV2(numClasses: 2, inChannels: 1);
        var pictures = new Rectangles(8, 5);
        var untrained = new Trainer(model, new TrainingOptions(), task: new DetectionTask()).Evaluate(pictures);

        var trainer = new Trainer(model, new TrainingOptions { Epochs = 80, BatchSize = 8, LearningRate = 3e-3, Seed = 3 }, task: new DetectionTask());
        var result = trainer.Fit(pictures);
        var trained = trainer.Evaluate(pictures);

        Assert.Equal("map50", result.Monitor);
        Assert.Equal(["box_loss", "cls_loss", "loss", "map", "map50", "obj_loss"], result.History[0].Train.Keys.Order(StringComparer.Ordinal));
        double firstLoss = result.History[0].Train["loss"], lastLoss = result.History[^1].Train["loss"];
        Assert.True(lastLoss < 0.1 * firstLoss, $"training loss {firstLoss} → {lastLoss}");
        Assert.True(untrained["map50"] < 0.2, $"untrained mAP@0.5 {untrained["map50"]}");
        Assert.True(trained["map50"] > 0.9, $"trained mAP@0.5 {trained["map50"]} (loss {trained["loss"]}, untrained {untrained["map50"]})");
        Assert.True(trained["map"] > 0.5, $"trained mAP@[.5:.95] {trained["map"]}");
        Assert.True(trained["loss"] < 0.2 * untrained["loss"], $"evaluation loss {untrained["loss"]} → {trained["loss"]}");
    }

    [Fact]
    public void TheMetricsStateRoundTripsAndCountsEveryPicture()
    {
        using var seeded = Generator.Use(new Generator(2));
        var model = new YoloV2(numClasses: 2, inChannels: 1);
        var task = new DetectionTask();
        task.CheckDataset(new Rectangles(4, 1));
        var batch = new DataLoader(new Rectangles(4, 1), 4).First();
        TaskStep step;
        using (Tensor.NoGrad()) step = task.Step(model.Eval(), batch);
        var metrics = task.CreateMetrics();
        foreach (var metric in metrics) metric.Update(batch, step);
        var copies = task.CreateMetrics();
        for (int m = 0; m < metrics.Count; m++)
        {
            copies[m].State = metrics[m].State;
            Assert.Equal(metrics[m].State, copies[m].State);
            Assert.Equal(metrics[m].Compute(), copies[m].Compute());
        }
        // pictures, classes, truths: 1 + 2 + 1 + 2 boxes in the four pictures.
        Assert.Equal([4, 2, 6], metrics[0].State[..3]);
    }

    [Fact]
    public void WrongDataAndModelsAreClearErrors()
    {
        var task = new DetectionTask();
        var noBoxes = Assert.Throws<ArgumentException>(() => task.CheckDataset(new Labelled()));
        Assert.Contains("no boxes", noBoxes.Message);

        task.CheckDataset(new Rectangles(2, 1));
        var batch = new DataLoader(new Rectangles(2, 1), 2).First();
        var wrongClasses = Assert.Throws<InvalidOperationException>(() => task.Step(new YoloV2(numClasses: 3, inChannels: 1), batch));
        Assert.Contains("3 classes but the dataset has 2", wrongClasses.Message);
        var notDetector = Assert.Throws<InvalidOperationException>(() => task.Step(new ConvKit.Vision.Models.SmallCnn(2, 1), batch));
        Assert.Contains("SmallCnn is not a detection model", notDetector.Message);
    }
}
