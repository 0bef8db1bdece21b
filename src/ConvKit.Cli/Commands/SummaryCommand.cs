using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using ConvKit.NN;
using ConvKit.Vision.Models;
using Spectre.Console;

namespace ConvKit.Cli.Commands;

/// <summary><c>convkit summary &lt;model&gt; [--input CxHxW] [--classes N] [--json]</c>: a zoo model's layer table (<see cref="ModelSummary"/>).</summary>
static class SummaryCommand
{
    public static Command Create()
    {
        var model = new Argument<string>("model") { Description = "a model name from `convkit models`" };
        var input = new Option<string?>("--input") { Description = "input channels×height×width, e.g. 3x224x224 (default: the model's own)" };
        var classes = new Option<int?>("--classes") { Description = "number of classes (default: the model's own)" };
        var json = new Option<bool>("--json") { Description = "print JSON instead of a table" };
        var command = new Command("summary", "Show every layer of a model with its output shape, parameters and multiply-accumulates.")
        {
            model, input, classes, json,
        };
        command.SetAction(result => Run(result.GetRequiredValue(model), result.GetValue(input), result.GetValue(classes), result.GetValue(json),
            result.InvocationConfiguration.Output, result.InvocationConfiguration.Error));
        return command;
    }

    /// <returns>the exit code: 0, or 1 after a one-line error on <paramref name="error"/></returns>
    public static int Run(string modelName, string? input, int? classes, bool json, TextWriter output, TextWriter error)
    {
        ModelSummary summary;
        try
        {
            var entry = ModelZoo.Get(modelName);
            var (channels, height, width) = input == null ? (entry.InChannels, entry.InputSize.Height, entry.InputSize.Width) : ParseInput(input);
            if (classes is < 1) throw new ArgumentException($"--classes must be positive, got {classes}");
            summary = ModelSummary.Of(entry.Create(channels, classes ?? entry.NumClasses), 1, channels, height, width);
            modelName = entry.Name;
        }
        catch (ArgumentException e)
        {
            error.WriteLine("error: " + e.Message.ReplaceLineEndings(" "));
            return 1;
        }
        if (json) WriteJson(modelName, summary, output);
        else WriteTable(modelName, summary, output);
        return 0;
    }

    /// <summary>"3x224x224" (or with ×, or commas) → (3, 224, 224).</summary>
    static (int Channels, int Height, int Width) ParseInput(string text)
    {
        var parts = text.Split(['x', 'X', '×', ','], StringSplitOptions.TrimEntries);
        var values = parts.Select(p => int.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out int v) && v > 0 ? v : 0).ToArray();
        if (values.Length != 3 || values.Contains(0))
            throw new ArgumentException($"--input must be CxHxW with three positive integers (e.g. 3x224x224), got '{text}'");
        return (values[0], values[1], values[2]);
    }

    static void WriteTable(string modelName, ModelSummary summary, TextWriter output)
    {
        var console = ConsoleOutput.For(output);
        var table = new Table().Title(modelName)
            .AddColumn("Layer").AddColumn("Type").AddColumn("Output shape")
            .AddColumn(new TableColumn("Params").RightAligned()).AddColumn(new TableColumn("MACs").RightAligned());
        foreach (var layer in summary.Layers)
            table.AddRow(new Text(layer.Name), new Text(layer.Type), new Text(Shape(layer.OutputShape)),
                new Text(Count(layer.Parameters)), new Text(Count(layer.MultiplyAccumulates)));
        console.Write(table);
        console.WriteLine($"Input shape: {Shape(summary.InputShape)}   Output shape: {Shape(summary.OutputShape)}");
        console.WriteLine($"Total params: {Count(summary.TotalParameters)}");
        long macs = summary.TotalMultiplyAccumulates;
        console.WriteLine($"Total MACs: {Count(macs)} ({(macs >= 1e9 ? $"{macs / 1e9:F2} G" : $"{macs / 1e6:F2} M")})");
    }

    static void WriteJson(string modelName, ModelSummary summary, TextWriter output) =>
        output.WriteLine(JsonSerializer.Serialize(new
        {
            model = modelName,
            input_shape = summary.InputShape,
            output_shape = summary.OutputShape,
            layers = summary.Layers.Select(l => new { name = l.Name, type = l.Type, output_shape = l.OutputShape, parameters = l.Parameters, macs = l.MultiplyAccumulates }),
            total_parameters = summary.TotalParameters,
            total_macs = summary.TotalMultiplyAccumulates,
        }));

    static string Shape(IReadOnlyList<int> shape) => "[" + string.Join(", ", shape) + "]";

    static string Count(long value) => value.ToString("N0", CultureInfo.InvariantCulture);
}
