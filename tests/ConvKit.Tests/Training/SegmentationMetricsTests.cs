using ConvKit.Data;
using ConvKit.NN;
using ConvKit.Training;

namespace ConvKit.Tests.Training;

/// <summary>The confusion matrix and the per-pixel metrics on hand-computed cases.</summary>
public class SegmentationMetricsTests
{
    // Targets [0, 0, 1, 1, 2, 255] predicted as [0, 1, 1, 1, 0, 2]: the ignored pixel is skipped, so the counts are
    // (0,0) = 1, (0,1) = 1, (1,1) = 2, (2,0) = 1. Accuracy 3/5. IoU: class 0 1/(2 + 2 − 1) = 1/3, class 1
    // 2/(2 + 3 − 2) = 2/3, class 2 0/(1 + 0 − 0) = 0; a fourth class, in neither, has no IoU and is left out of the mean.
    static readonly float[] Targets = [0, 0, 1, 1, 2, 255];
    static readonly float[] Predictions = [0, 1, 1, 1, 0, 2];

    /// <summary>Logits (1, classes, 2, 3) whose largest class at each pixel is the prediction.</summary>
    static Tensor Logits(int classes)
    {
        var values = new float[classes * 6];
        for (int i = 0; i < 6; i++)
            for (int c = 0; c < classes; c++) values[c * 6 + i] = c == (int)Predictions[i] ? 2 : -1 - 0.1f * c;
        return Tensor.FromArray(values, 1, classes, 2, 3);
    }

    [Fact]
    public void CountsSkipTheIgnoredPixelAndGiveTheHandComputedValues()
    {
        var matrix = new ConfusionMatrix(3);
        matrix.Add(Predictions, Targets);
        Assert.Equal(5, matrix.Total);
        Assert.Equal([1L, 1, 0, 0, 2, 0, 1, 0, 0], Enumerable.Range(0, 9).Select(i => matrix[i / 3, i % 3]));
        Assert.Equal(0.6, matrix.PixelAccuracy(), 12);
        var iou = matrix.IoU();
        Assert.Equal(1 / 3.0, iou[0], 12);
        Assert.Equal(2 / 3.0, iou[1], 12);
        Assert.Equal(0, iou[2], 12);
        Assert.Equal(1 / 3.0, matrix.MeanIoU(), 12);
    }

    [Fact]
    public void AClassInNeitherTargetNorPredictionIsLeftOutOfTheMean()
    {
        var matrix = new ConfusionMatrix();
        matrix.AddLogits(Logits(4), Tensor.FromArray(Targets, 1, 2, 3));
        Assert.Equal(4, matrix.Classes);
        Assert.True(double.IsNaN(matrix.IoU()[3]));
        Assert.Equal(1 / 3.0, matrix.MeanIoU(), 12);
        Assert.Equal(0.6, matrix.PixelAccuracy(), 12);
    }

    [Fact]
    public void EmptyMatrixIsNaNAndAllIgnoredStaysEmpty()
    {
        var matrix = new ConfusionMatrix(2);
        Assert.True(double.IsNaN(matrix.MeanIoU()));
        Assert.True(double.IsNaN(matrix.PixelAccuracy()));
        matrix.Add([0, 1], [255, 255]);
        Assert.Equal(0, matrix.Total);
    }

    [Fact]
    public void MetricsAccumulateOverBatchesAndRoundTripTheirState()
    {
        var masks = Tensor.FromArray(Targets, 1, 2, 3);
        var batch = new Batch(Tensor.Zeros([1, 1, 2, 3]), Tensor.Zeros([0]), [0]) { Masks = masks };
        var step = new TaskStep(Tensor.Scalar(0), TensorDict.Single(Logits(3)));
        var miou = new MeanIoU();
        var accuracy = new PixelAccuracy();
        Assert.Equal("miou", miou.Name);
        Assert.Equal("pixel_accuracy", accuracy.Name);
        miou.Update(batch, step);
        accuracy.Update(batch, step);
        Assert.Equal(1 / 3.0, miou.Compute(), 12);
        Assert.Equal(0.6, accuracy.Compute(), 12);

        // A second, perfect batch: counts (0,0) = 2, (1,1) = 2, (2,2) = 1 more.
        var perfect = Tensor.FromArray(Targets[..5].Append(0).ToArray(), 1, 2, 3);
        var restored = new MeanIoU { State = miou.State };
        restored.Update(batch with { Masks = perfect }, new TaskStep(Tensor.Scalar(0), TensorDict.Single(PerfectLogits())));
        // Totals (0,0) = 4, (0,1) = 1, (1,1) = 4, (2,0) = 1, (2,2) = 1: accuracy 9/11; IoU 4/6, 4/5, 1/2.
        var matrix = restored.Matrix;
        Assert.Equal(11, matrix.Total);
        Assert.Equal(9.0 / 11, new PixelAccuracy { State = restored.State }.Compute(), 12);
        double expected = (4.0 / (5 + 5 - 4) + 4.0 / (4 + 5 - 4) + 1.0 / (2 + 1 - 1)) / 3;
        Assert.Equal(expected, restored.Compute(), 12);

        static Tensor PerfectLogits()
        {
            float[] classes = [0, 0, 1, 1, 2, 0];
            var values = new float[18];
            for (int i = 0; i < 6; i++)
                for (int c = 0; c < 3; c++) values[c * 6 + i] = c == (int)classes[i] ? 1 : 0;
            return Tensor.FromArray(values, 1, 3, 2, 3);
        }
    }

    [Fact]
    public void WrongShapesAndClassesAreClearErrors()
    {
        var matrix = new ConfusionMatrix(3);
        Assert.Throws<ArgumentException>(() => matrix.AddLogits(Logits(4), Tensor.FromArray(Targets, 1, 2, 3)));
        Assert.Throws<ArgumentException>(() => matrix.AddLogits(Logits(3), Tensor.FromArray(Targets, 1, 3, 2)));
        var outside = Assert.Throws<ArgumentOutOfRangeException>(() => matrix.Add([0], [3]));
        Assert.Contains("target 3", outside.Message);
    }
}
