using ConvKit.Training;
using ConvKit.Vision.Detection;
using ConvKit.Vision.Imaging;
using ConvKit.Vision.Style;
using ScottPlot;
using SkiaSharp;

namespace ConvKit.Cli.Charts;

/// <summary>The PNG charts of the command line, drawn with ScottPlot.</summary>
static class TrainingCharts
{
    /// <summary>
    /// Two panels side by side, training and validation: the losses per epoch (the loss and its terms, such as
    /// GoogLeNet's side-classifier losses) and the task's other metrics (accuracy as a percentage).
    /// </summary>
    public static void SaveHistory(IReadOnlyList<EpochMetrics> history, string path, string title)
    {
        double[] epochs = history.Select(e => (double)e.Epoch).ToArray();
        var names = history.SelectMany(e => e.Train.Keys).Distinct().ToList();
        var losses = new Plot();
        var metrics = new Plot();
        foreach (var name in names)
        {
            bool isLoss = name.EndsWith("loss", StringComparison.Ordinal);
            double scale = name == "accuracy" ? 100 : 1;
            var plot = isLoss ? losses : metrics;
            AddLine(plot, epochs, history.Select(e => scale * e.Train.GetValueOrDefault(name, double.NaN)), $"train {name}");
            if (history.All(e => e.Validation?.ContainsKey(name) == true))
                AddLine(plot, epochs, history.Select(e => scale * e.Validation![name]), $"validation {name}");
        }
        Label(losses, $"{title}: loss", "loss");
        losses.ShowLegend(Alignment.UpperRight);
        Label(metrics, $"{title}: metrics", names.Contains("accuracy") ? "accuracy (%)" : "value");
        metrics.ShowLegend(Alignment.LowerRight);

        SideBySide(path, 600, 420, losses, metrics);
    }

    static void AddLine(Plot plot, double[] epochs, IEnumerable<double> values, string label)
    {
        var line = plot.Add.Scatter(epochs, values.ToArray());
        line.LegendText = label;
        line.LineWidth = 2;
        line.MarkerSize = 6;
    }

    static void Label(Plot plot, string title, string yLabel)
    {
        plot.Title(title);
        plot.XLabel("epoch");
        plot.YLabel(yLabel);
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
        plot.ShowLegend(Alignment.LowerRight);
    }

    /// <summary>
    /// The confusion matrix as a heat map: rows are the true classes, columns the predicted ones, each cell
    /// labelled with its count and coloured by the fraction of its row.
    /// </summary>
    public static void SaveConfusion(int[][] confusion, IReadOnlyList<string> classes, string path, string title)
    {
        int n = classes.Count;
        var fractions = new double[n, n];
        for (int t = 0; t < n; t++)
        {
            double total = Math.Max(1, confusion[t].Sum());
            for (int p = 0; p < n; p++) fractions[t, p] = confusion[t][p] / total;
        }
        // Drawn cell by cell (row t at the top when t = 0), shaded from white to dark blue by the fraction of its row.
        var plot = new Plot();
        var light = new Color(247, 251, 255);
        var dark = new Color(8, 48, 107);
        for (int t = 0; t < n; t++)
            for (int p = 0; p < n; p++)
            {
                double y = n - 1 - t, f = fractions[t, p];
                var cell = plot.Add.Rectangle(p - 0.5, p + 0.5, y - 0.5, y + 0.5);
                cell.FillColor = new Color((byte)(light.R + f * (dark.R - light.R)), (byte)(light.G + f * (dark.G - light.G)), (byte)(light.B + f * (dark.B - light.B)));
                cell.LineColor = Colors.White;
                var text = plot.Add.Text(confusion[t][p].ToString(), p, y);
                text.LabelAlignment = Alignment.MiddleCenter;
                text.LabelFontColor = f > 0.5 ? Colors.White : Colors.Black;
                text.LabelFontSize = n > 12 ? 9 : 12;
            }
        double[] positions = Enumerable.Range(0, n).Select(i => (double)i).ToArray();
        plot.Axes.Bottom.SetTicks(positions, classes.ToArray());
        plot.Axes.Bottom.TickLabelStyle.Rotation = -45;
        plot.Axes.Bottom.TickLabelStyle.Alignment = Alignment.MiddleRight;
        plot.Axes.Bottom.MinimumSize = 110;
        plot.Axes.Left.SetTicks(positions.Reverse().ToArray(), classes.ToArray());
        plot.Axes.SetLimits(-0.5, n - 0.5, -0.5, n - 0.5);
        plot.Grid.IsVisible = false;
        plot.Title(title);
        plot.XLabel("predicted");
        plot.YLabel("true");
        SideBySide(path, 720, 680, plot);
    }

    /// <summary>
    /// Each class's precision–recall curve at IoU 0.5 (COCO's interpolated precision at the 101 recall points,
    /// <see cref="CocoResult.PrecisionAt50"/>), in the class's <see cref="DetectionOverlay"/> colour, labelled with its
    /// AP50; classes without ground truth have no curve and are left out.
    /// </summary>
    public static void SavePrecisionRecall(CocoResult result, IReadOnlyList<string> classes, string path, string title)
    {
        if (result.PrecisionAt50.Length != classes.Count)
            throw new ArgumentException($"the COCO result has {result.PrecisionAt50.Length} classes but {classes.Count} names were given.");
        var plot = new Plot();
        double[] recall = CocoResult.RecallThresholds.ToArray();
        for (int k = 0; k < classes.Count; k++)
        {
            if (result.PrecisionAt50[k] is not { } precision) continue;
            var colour = DetectionOverlay.ColourOf(k);
            var line = plot.Add.Scatter(recall, precision);
            line.LegendText = $"{classes[k]} (AP50 {result.ClassAp50[k]:F3})";
            line.Color = new Color(colour.Red, colour.Green, colour.Blue);
            line.LineWidth = 2;
            line.MarkerSize = 0;
        }
        plot.Axes.SetLimits(0, 1, 0, 1.02);
        plot.Title($"{title}: AP50 {result.Ap50:F3}");
        plot.XLabel("recall");
        plot.YLabel("precision (IoU ≥ 0.5)");
        plot.ShowLegend(Alignment.LowerLeft);
        SideBySide(path, 760, 560, plot);
    }

    /// <summary>
    /// Style transfer's costs per evaluation, each weighted as in the objective (α·content, β·style, γ·TV, and their
    /// total), on a log scale; scales of a multi-scale run follow one another.
    /// </summary>
    public static void SaveStyleCosts(IReadOnlyList<StyleStep> history, StyleTransferOptions options, string path, string title)
    {
        var plot = new Plot();
        var terms = new List<(string Label, Func<StyleStep, double> Value)>
        {
            ("total", s => s.Total), ("α·content", s => options.ContentWeight * s.Content), ("β·style", s => options.StyleWeight * s.Style),
        };
        if (options.TotalVariationWeight > 0) terms.Add(("γ·TV", s => options.TotalVariationWeight * s.TotalVariation));
        foreach (var (label, value) in terms)
        {
            // A cost of 0 (the content cost when starting from the content picture) has no logarithm: left out.
            var points = history.Select((s, i) => (Step: i + 1.0, Value: value(s))).Where(p => p.Value > 0).ToArray();
            var line = plot.Add.Scatter(points.Select(p => p.Step).ToArray(), points.Select(p => Math.Log10(p.Value)).ToArray());
            line.LegendText = label;
            line.LineWidth = 2;
            line.MarkerSize = 0;
        }
        plot.Title(title);
        plot.XLabel("evaluation");
        plot.YLabel("log₁₀ cost");
        plot.ShowLegend(Alignment.UpperRight);
        SideBySide(path, 720, 420, plot);
    }

    /// <summary>Renders the plots next to each other into one picture, in the format the file's extension names (PNG, JPEG, WebP).</summary>
    static void SideBySide(string path, int width, int height, params Plot[] plots)
    {
        using var surface = SKSurface.Create(new SKImageInfo(width * plots.Length, height));
        for (int i = 0; i < plots.Length; i++)
        {
            using var image = SKBitmap.Decode(plots[i].GetImageBytes(width, height, ImageFormat.Png));
            surface.Canvas.DrawBitmap(image, i * width, 0);
        }
        using var snapshot = surface.Snapshot();
        ImageFiles.Save(snapshot, path);
    }
}
