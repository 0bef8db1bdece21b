using ConvKit.Vision.Detection;
using ConvKit.Vision.Faces;
using ScottPlot;

namespace ConvKit.Cli.Charts;

/// <summary>The charts of <c>convkit faces train</c>: the verification ROC curve and a 2-D projection of the embeddings.</summary>
static class FaceCharts
{
    /// <summary>The ROC curve of the test pairs (true-positive against false-positive rate) with its area, the chance diagonal, and the chosen operating point.</summary>
    public static void SaveRoc(RocCurve roc, double operatingFalsePositiveRate, double operatingTruePositiveRate, string path, string title)
    {
        var plot = new Plot();
        var chance = plot.Add.Line(0, 0, 1, 1);
        chance.LinePattern = LinePattern.Dashed;
        chance.Color = Colors.Gray;
        chance.LegendText = "chance";
        var curve = plot.Add.Scatter(roc.FalsePositiveRate, roc.TruePositiveRate);
        curve.LegendText = $"ROC (AUC {roc.Area:F4})";
        curve.LineWidth = 2;
        curve.MarkerSize = 0;
        var point = plot.Add.Marker(operatingFalsePositiveRate, operatingTruePositiveRate);
        point.MarkerSize = 10;
        point.Color = Colors.Red;
        point.LegendText = "threshold chosen on validation pairs";
        plot.Axes.SetLimits(0, 1, 0, 1.02);
        plot.Title(title);
        plot.XLabel("false-positive rate (different pairs declared the same)");
        plot.YLabel("true-positive rate (same pairs declared the same)");
        plot.ShowLegend(Alignment.LowerRight);
        plot.SavePng(path, 640, 560);
    }

    /// <summary>The embeddings projected on their first two principal components, a colour per identity (class).</summary>
    /// <param name="embeddings">(N, D)</param>
    /// <param name="identities">each row's identity, an index into <paramref name="names"/></param>
    public static void SaveProjection(Tensor embeddings, IReadOnlyList<int> identities, IReadOnlyList<string> names, string path, string title)
    {
        int n = embeddings.Shape[0], d = embeddings.Shape[1];
        var projection = EmbeddingProjection.Pca(embeddings.ToArray(), n, d);
        var plot = new Plot();
        for (int k = 0; k < names.Count; k++)
        {
            var rows = Enumerable.Range(0, n).Where(i => identities[i] == k).ToArray();
            if (rows.Length == 0) continue;
            var colour = DetectionOverlay.ColourOf(k);
            var points = plot.Add.ScatterPoints(rows.Select(i => projection[i, 0]).ToArray(), rows.Select(i => projection[i, 1]).ToArray());
            points.Color = new Color(colour.Red, colour.Green, colour.Blue, 160);
            points.MarkerSize = 4;
            points.LegendText = names[k];
        }
        plot.Title(title);
        plot.XLabel("principal component 1");
        plot.YLabel("principal component 2");
        plot.ShowLegend(Alignment.UpperRight);
        plot.SavePng(path, 760, 640);
    }
}
