using System.CommandLine;
using System.Globalization;
using ConvKit.NN;
using ConvKit.Vision.Models;
using Spectre.Console;

namespace ConvKit.Cli.Commands;

/// <summary><c>convkit summary MODEL [--input CxHxW] [--classes N]</c>: a zoo model's layer table (<see cref="ModelSummary"/>).</summary>
static class SummaryCommand
{
    public static Command Create()
    {
        var model = new Argument<string>("model") { Description = "A model name from 'convkit models'." };
        var input = new Option<string?>("--input") { Description = "Input channels×height×width, e.g. 3x224x224 (default: the model's own)." };
        var classes = new Option<int?>("--classes") { Description = "Number of classes (default: the model's own)." };
        var command = new Command("summary", """
            Show every layer of a model with its output shape, parameter count and multiply-accumulates (MACs) for one
            image, and the totals. MACs count weight multiplications (convolutions and linear layers); bias, batch
            norm, pooling and activations count 0.
            """) { model, input, classes };
        CommandOutput.AddJsonOption(command);
        CommandOutput.AddExamples(command, """
            convkit summary resnet50
            convkit summary lenet5 --input 1x32x32 --classes 10 --json
            """);
        command.SetAction(parsed => Run(parsed.GetValue(model)!, parsed.GetValue(input), parsed.GetValue(classes), new CommandOutput(parsed)));
        return command;
    }

    static int Run(string modelName, string? input, int? classes, CommandOutput output)
    {
        var entry = ModelZoo.Get(modelName);
        var (channels, height, width) = input == null ? (entry.InChannels, entry.InputSize.Height, entry.InputSize.Width) : ParseInput(input);
        if (classes is < 1) throw new ArgumentException($"--classes must be positive, not {classes}.");
        Module model;
        using (Init.Skip()) model = entry.Create(channels, classes ?? entry.NumClasses); // shapes only: no weights drawn
        var summary = ModelSummary.Of(model, 1, channels, height, width);

        if (output.Json)
        {
            output.WriteJson(new
            {
                model = entry.Name, input_shape = summary.InputShape, output_shape = summary.OutputShape,
                layers = summary.Layers.Select(l => new { name = l.Name, type = l.Type, output_shape = l.OutputShape, parameters = l.Parameters, macs = l.MultiplyAccumulates }),
                total_parameters = summary.TotalParameters, total_macs = summary.TotalMultiplyAccumulates,
            });
            return 0;
        }
        var table = new Table().Title(entry.Name)
            .AddColumn("Layer").AddColumn("Type").AddColumn("Output shape")
            .AddColumn(new TableColumn("Params").RightAligned()).AddColumn(new TableColumn("MACs").RightAligned());
        foreach (var layer in summary.Layers)
            table.AddRow(new Text(layer.Name), new Text(layer.Type), new Text(Shape(layer.OutputShape)),
                new Text(Count(layer.Parameters)), new Text(Count(layer.MultiplyAccumulates)));
        output.Console.Write(table);
        long macs = summary.TotalMultiplyAccumulates;
        output.Console.WriteLine($"Input shape: {Shape(summary.InputShape)}   Output shape: {Shape(summary.OutputShape)}");
        output.Console.WriteLine($"Total params: {Count(summary.TotalParameters)}");
        output.Console.WriteLine($"Total MACs: {Count(macs)} ({(macs >= 1e9 ? $"{macs / 1e9:F2} G" : $"{macs / 1e6:F2} M")})");
        return 0;
    }

    /// <summary>"3x224x224" (or with ×, or commas) → (3, 224, 224).</summary>
    internal static (int Channels, int Height, int Width) ParseInput(string text)
    {
        var values = text.Split(['x', 'X', '×', ','], StringSplitOptions.TrimEntries)
            .Select(p => int.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out int v) && v > 0 ? v : 0).ToArray();
        if (values.Length != 3 || values.Contains(0))
            throw new ArgumentException($"--input must be CxHxW with three positive integers (e.g. 3x224x224), not '{text}'.");
        return (values[0], values[1], values[2]);
    }

    static string Shape(IReadOnlyList<int> shape) => "[" + string.Join(", ", shape) + "]";

    static string Count(long value) => value.ToString("N0", CultureInfo.InvariantCulture);
}
