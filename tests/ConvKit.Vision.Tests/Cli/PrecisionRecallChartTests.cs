using ConvKit.Cli.Charts;
using ConvKit.Vision.Detection;
using SkiaSharp;

namespace ConvKit.Vision.Tests.Cli;

public sealed class PrecisionRecallChartTests : IDisposable
{
    readonly string directory = Directory.CreateTempSubdirectory("convkit-pr-chart-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    [Fact]
    public void EachClassWithGroundTruthHasACurveInItsColour()
    {
        // Class 0 found perfectly, class 1 half found, class 2 has no ground truth (no curve).
        var evaluator = new DetectionEvaluator(3);
        evaluator.Add([new GroundTruthBox(0, 0, 0, 0, 10, 10), new GroundTruthBox(0, 1, 20, 20, 30, 30), new GroundTruthBox(0, 1, 40, 40, 50, 50)],
            [new DetectedBox(0, 0, 0, 0, 10, 10, 0.9f), new DetectedBox(0, 1, 20, 20, 30, 30, 0.8f), new DetectedBox(0, 2, 60, 60, 70, 70, 0.7f)]);
        var result = evaluator.Coco();
        Assert.Null(result.PrecisionAt50[2]);
        string path = Path.Combine(directory, "pr.png");
        TrainingCharts.SavePrecisionRecall(result, ["a", "b", "c"], path, "test");

        using var chart = SKBitmap.Decode(path);
        Assert.Equal((760, 560), (chart.Width, chart.Height));
        var colours = new HashSet<SKColor>();
        for (int y = 0; y < chart.Height; y++)
            for (int x = 0; x < chart.Width; x++) colours.Add(chart.GetPixel(x, y).WithAlpha(255));
        Assert.Contains(DetectionOverlay.ColourOf(0), colours);
        Assert.Contains(DetectionOverlay.ColourOf(1), colours);
        Assert.DoesNotContain(DetectionOverlay.ColourOf(2), colours);

        Assert.Throws<ArgumentException>(() => TrainingCharts.SavePrecisionRecall(result, ["a", "b"], path, "test"));
    }
}
