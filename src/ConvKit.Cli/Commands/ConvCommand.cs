using System.CommandLine;
using System.Globalization;
using ConvKit.Ops;
using ConvKit.Vision.Imaging;

namespace ConvKit.Cli.Commands;

/// <summary>
/// <c>convkit conv IMAGE --filter vertical -o edges.png</c>: the course's edge-detection example on any picture —
/// the grey image convolved (cross-correlated, as in CNNs) with one 3×3 filter, written as |response| scaled to white.
/// </summary>
static class ConvCommand
{
    /// <summary>The named 3×3 filters, row-major. "vertical" is the course's [1 0 −1] detector (bright left, dark right → positive).</summary>
    internal static readonly IReadOnlyDictionary<string, float[]> Filters = new Dictionary<string, float[]>(StringComparer.OrdinalIgnoreCase)
    {
        ["vertical"] = [1, 0, -1, 1, 0, -1, 1, 0, -1],
        ["horizontal"] = [1, 1, 1, 0, 0, 0, -1, -1, -1],
        ["sobel-x"] = [1, 0, -1, 2, 0, -2, 1, 0, -1],
        ["sobel-y"] = [1, 2, 1, 0, 0, 0, -1, -2, -1],
        ["laplacian"] = [0, 1, 0, 1, -4, 1, 0, 1, 0],
    };

    public static Command Create()
    {
        var image = new Argument<string>("image") { Description = "Image file (PNG, JPEG, BMP, GIF, WebP); it is converted to grey." };
        var filter = new Option<string>("--filter", "-f")
        {
            Description = "vertical, horizontal, sobel-x, sobel-y, laplacian, or 9 numbers (row by row, separated by commas or spaces).",
            DefaultValueFactory = _ => "vertical",
        };
        var padding = new Option<string>("--padding") { Description = "valid (no padding: n−2 outputs) or same (zero padding: n outputs at stride 1).", DefaultValueFactory = _ => "valid" };
        padding.AcceptOnlyFromAmong("valid", "same");
        var stride = new Option<int>("--stride", "-s") { Description = "Stride of the filter.", DefaultValueFactory = _ => 1 };
        var output = new Option<string>("--output", "-o") { Description = "Where to write the edge map (.png, .jpg or .webp).", Required = true };
        var command = new Command("conv", """
            Convolve an image with a 3×3 filter — the edge-detection example of the CNN course. The output size is
            ⌊(n + 2p − 3) / s⌋ + 1 per axis; the PNG shows |response| scaled so the strongest is white.
            """) { image, filter, padding, stride, output };
        CommandOutput.AddJsonOption(command);
        CommandOutput.AddExamples(command, """
            convkit conv photo.jpg --filter vertical -o vertical-edges.png
            convkit conv photo.jpg --filter sobel-y --padding same --stride 2 -o edges.png
            convkit conv photo.jpg --filter "0,1,0,1,-4,1,0,1,0" -o laplacian.png --json
            """);
        command.SetAction(parsed => Run(parsed.GetValue(image)!, parsed.GetValue(filter)!, parsed.GetValue(padding)!, parsed.GetValue(stride),
            parsed.GetValue(output)!, new CommandOutput(parsed)));
        return command;
    }

    internal static float[] ParseFilter(string text)
    {
        if (Filters.TryGetValue(text, out var named)) return named;
        var parts = text.Split([',', ' ', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var values = new float[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!float.TryParse(parts[i], NumberStyles.Float, CultureInfo.InvariantCulture, out values[i]) || !float.IsFinite(values[i]))
                throw new ArgumentException($"--filter: '{parts[i]}' is not a number (use {string.Join(", ", Filters.Keys)} or 9 numbers).");
        return values.Length == 9 ? values
            : throw new ArgumentException($"--filter: a 3×3 filter needs 9 numbers, got {values.Length} (or name one of {string.Join(", ", Filters.Keys)}).");
    }

    static int Run(string imagePath, string filterText, string padding, int stride, string outputPath, CommandOutput output)
    {
        var weights = ParseFilter(filterText);
        ImageFiles.PrepareToSave(outputPath);
        if (stride < 1) throw new ArgumentException($"--stride must be at least 1, not {stride}.");
        var image = ImageFiles.Load(imagePath, channels: 1);
        int height = image.Shape[1], width = image.Shape[2];
        if (padding == "valid" && (height < 3 || width < 3))
            throw new ArgumentException($"image '{imagePath}' is {height}×{width}; a 3×3 filter with valid padding needs at least 3×3.");

        // (1, 1, H, W) ⋆ (1, 1, 3, 3) → (1, 1, H', W'); "same" pads one pixel each side, which at stride 1 keeps the size.
        var response = F.Conv2d(image.Reshape(1, 1, height, width), Tensor.FromArray(weights, 1, 1, 3, 3),
            stride: stride, padding: padding == "same" ? 1 : 0);
        var values = response.ToArray();
        float strongest = values.Max(MathF.Abs);
        var edges = response.Abs() * (strongest > 0 ? 1f / strongest : 0f);
        ImageFiles.Save(edges.Reshape(response.Shape[2], response.Shape[3]), outputPath);

        if (output.Json)
        {
            output.WriteJson(new
            {
                input = imagePath, output = outputPath, filter = weights, padding, stride,
                input_size = new[] { height, width }, output_size = new[] { response.Shape[2], response.Shape[3] },
                min_response = values.Min(), max_response = values.Max(),
            });
            return 0;
        }
        output.Line($"{height}×{width} → {response.Shape[2]}×{response.Shape[3]} ({padding} padding, stride {stride}); " +
            $"response from {values.Min():G4} to {values.Max():G4}; wrote {Spectre.Console.Markup.Escape(outputPath)}");
        return 0;
    }
}
