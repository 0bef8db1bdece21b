using System.CommandLine;
using System.Globalization;
using ConvKit.Onnx;
using ConvKit.Ops;
using ConvKit.Vision.Imaging;
using Spectre.Console;

namespace ConvKit.Cli.Commands;

/// <summary>
/// <c>convkit onnx info MODEL</c>: a model's inputs, outputs, op histogram and parameter count.
/// <c>convkit onnx run MODEL IMAGE...</c>: images decoded, resized to the model's input, normalised, run, summarised.
/// </summary>
static class OnnxCommand
{
    public static Command Create()
    {
        var command = new Command("onnx", "Inspect and run ONNX models with ConvKit's importer.") { Info(), RunCommand() };
        CommandOutput.AddExamples(command, """
            convkit onnx info ResNet18.onnx
            convkit onnx run mobilenet.onnx cat.jpg dog.png --top 5
            """);
        return command;
    }

    static Command Info()
    {
        var model = new Argument<string>("model") { Description = "An .onnx file." };
        var command = new Command("info", "Show an ONNX model's inputs and outputs with their shapes, its op histogram and its parameter count.") { model };
        CommandOutput.AddJsonOption(command);
        CommandOutput.AddExamples(command, "convkit onnx info ResNet18.onnx --json");
        command.SetAction(parsed =>
        {
            var output = new CommandOutput(parsed);
            var module = OnnxModel.Load(parsed.GetValue(model)!);
            long buffers = module.NamedBuffers().Sum(b => (long)b.Buffer.Numel);
            if (output.Json)
            {
                output.WriteJson(new
                {
                    model = module.Source, producer = module.ProducerName, opset = module.Opset,
                    inputs = module.Inputs.Select(Describe), outputs = module.Outputs.Select(Describe),
                    op_histogram = module.OpHistogram, nodes = module.OpHistogram.Values.Sum(),
                    parameters = module.ParameterCount(), buffer_values = buffers,
                });
                return 0;
            }
            output.Console.WriteLine($"{module.Source}: opset {module.Opset}, producer {(module.ProducerName.Length > 0 ? module.ProducerName : "?")}");
            var values = new Table().AddColumns("", "name", "type", "shape");
            foreach (var input in module.Inputs) values.AddRow("input", Markup.Escape(input.Name), input.ElementType, Shape(input));
            foreach (var o in module.Outputs) values.AddRow("output", Markup.Escape(o.Name), o.ElementType, Shape(o));
            output.Console.Write(values);
            var ops = new Table().AddColumn("op").AddColumn(new TableColumn("count").RightAligned());
            foreach (var (op, count) in module.OpHistogram) ops.AddRow(op, count.ToString(CultureInfo.InvariantCulture));
            output.Console.Write(ops);
            output.Console.WriteLine($"Parameters: {module.ParameterCount().ToString("N0", CultureInfo.InvariantCulture)}" +
                (buffers > 0 ? $" (plus {buffers.ToString("N0", CultureInfo.InvariantCulture)} batch-norm statistics)" : ""));
            return 0;
        });
        return command;
    }

    static object Describe(OnnxValueInfo info) => new
    {
        name = info.Name, type = info.ElementType,
        shape = info.Shape?.Select(d => d.Value is { } v ? (object)v : d.Symbol ?? "?"),
    };

    static string Shape(OnnxValueInfo info) => Markup.Escape(info.Shape == null ? "?" : "[" + string.Join(", ", info.Shape) + "]");

    static Command RunCommand()
    {
        var model = new Argument<string>("model") { Description = "An .onnx file with one image input (N, C, H, W)." };
        var images = new Argument<string[]>("images") { Description = "Image files (PNG, JPEG, BMP, GIF, WebP).", Arity = ArgumentArity.OneOrMore };
        var top = new Option<int>("--top", "-k") { Description = "How many of the largest outputs to show per image.", DefaultValueFactory = _ => 5 };
        var mean = new Option<string>("--mean") { Description = "Per-channel mean subtracted after scaling.", DefaultValueFactory = _ => "0.485,0.456,0.406" };
        var std = new Option<string>("--std") { Description = "Per-channel standard deviation divided by.", DefaultValueFactory = _ => "0.229,0.224,0.225" };
        var scale = new Option<float>("--scale") { Description = "Pixel value of white before normalising (1: [0, 1], 255: [0, 255]).", DefaultValueFactory = _ => 1f };
        var bgr = new Option<bool>("--bgr") { Description = "Feed channels as blue, green, red (Caffe/CNTK-style models)." };
        var size = new Option<string?>("--size") { Description = "Input height×width when the model leaves them symbolic, e.g. 224x224." };
        var command = new Command("run", """
            Run an ONNX model on images: each is decoded, resized to the model's input size, scaled, normalised with
            the per-channel mean and std (ImageNet's by default), and the largest outputs are printed with their softmax
            probabilities over the output.
            """) { model, images, top, mean, std, scale, bgr, size };
        CommandOutput.AddJsonOption(command);
        CommandOutput.AddExamples(command, """
            convkit onnx run mobilenet.onnx cat.jpg --top 3
            convkit onnx run ResNet18.onnx shoe.png --scale 255 --mean 103.06,115.90,123.15 --std 1,1,1 --bgr --json
            """);
        command.SetAction(parsed => Run(parsed.GetValue(model)!, parsed.GetValue(images)!, parsed.GetValue(top), Numbers(parsed.GetValue(mean)!, "--mean"),
            Numbers(parsed.GetValue(std)!, "--std"), parsed.GetValue(scale), parsed.GetValue(bgr), parsed.GetValue(size), new CommandOutput(parsed)));
        return command;
    }

    static float[] Numbers(string text, string option)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        var values = parts.Select(p => float.TryParse(p, NumberStyles.Float, CultureInfo.InvariantCulture, out float v) ? v : float.NaN).ToArray();
        if (values.Any(float.IsNaN)) throw new ArgumentException($"{option} must be comma-separated numbers, not '{text}'.");
        return values;
    }

    static int Run(string path, string[] files, int top, float[] mean, float[] std, float scale, bool bgr, string? sizeText, CommandOutput output)
    {
        if (top < 1) throw new ArgumentException($"--top must be at least 1, not {top}.");
        if (std.Any(s => s == 0)) throw new ArgumentException("--std must not contain 0.");
        if (!(scale > 0 && float.IsFinite(scale)))
            throw new ArgumentException($"--scale must be a positive number (1 when the model takes pixels in [0, 1], 255 for [0, 255]), not {scale}.");
        // Inference only: batch norm is folded into the convolutions, as ONNX Runtime does.
        var module = OnnxModel.Load(path, new OnnxImportOptions { FoldBatchNorm = true });
        if (module.Inputs.Count != 1 || module.Outputs.Count != 1)
            throw new ArgumentException($"'{path}' has {module.Inputs.Count} inputs and {module.Outputs.Count} outputs; 'onnx run' needs one image input and one output.");
        var input = module.Inputs[0];
        if (input.Shape is not { Count: 4 } dims)
            throw new ArgumentException($"'{path}': input '{input.Name}' should be an image batch (N, C, H, W), but its shape is {(input.Shape == null ? "undeclared" : "[" + string.Join(", ", input.Shape) + "]")}.");
        int channels = (int)(dims[1].Value ?? 3);
        if (channels is not (1 or 3)) throw new ArgumentException($"'{path}': input '{input.Name}' has {channels} channels; images give 1 or 3.");
        var size = ImageSize(dims, sizeText, input.Name);
        foreach (var (values, option) in new[] { (mean, "--mean"), (std, "--std") })
            if (values.Length != 1 && values.Length != channels)
                throw new ArgumentException($"{option} has {values.Length} values but the model's input has {channels} channels.");

        var results = files.Select(file =>
        {
            var image = ImageFiles.Load(file, channels, size).ToArray();
            int plane = size.Height * size.Width;
            var x = new float[image.Length];
            for (int c = 0; c < channels; c++)
            {
                int source = bgr ? channels - 1 - c : c;
                float m = mean[mean.Length == 1 ? 0 : c], s = std[std.Length == 1 ? 0 : c];
                for (int i = 0; i < plane; i++) x[c * plane + i] = (image[source * plane + i] * scale - m) / s;
            }
            Tensor y, probabilities;
            using (Tensor.NoGrad())
            {
                y = module.Forward(Tensor.FromArray(x, 1, channels, size.Height, size.Width));
                probabilities = F.Softmax(y.Reshape(y.Numel));
            }
            var values = y.ToArray();
            var p = probabilities.ToArray();
            return new
            {
                image = file, output_shape = y.Shape.ToArray(), min = (double)values.Min(), max = (double)values.Max(), mean = values.Average(v => (double)v),
                top = Enumerable.Range(0, values.Length).OrderByDescending(i => values[i]).Take(top)
                    .Select(i => new { index = i, value = (double)values[i], probability = (double)p[i] }).ToArray(),
            };
        }).ToArray();

        if (output.Json)
        {
            output.WriteJson(new { model = path, input = input.Name, output = module.Outputs[0].Name, results });
            return 0;
        }
        var table = new Table().AddColumns("image", "output", "rank", "index", "value", "probability");
        foreach (var r in results)
            for (int i = 0; i < r.top.Length; i++)
                table.AddRow(i == 0 ? Markup.Escape(r.image) : "",
                    i == 0 ? Markup.Escape($"[{string.Join(", ", r.output_shape)}] min {r.min:G4} max {r.max:G4} mean {r.mean:G4}") : "",
                    (i + 1).ToString(CultureInfo.InvariantCulture), r.top[i].index.ToString(CultureInfo.InvariantCulture),
                    r.top[i].value.ToString("G5", CultureInfo.InvariantCulture), $"{r.top[i].probability:P2}");
        output.Console.Write(table);
        return 0;
    }

    /// <summary>The model's fixed height and width (--size, if given, must agree), or --size where they are symbolic.</summary>
    static Size2 ImageSize(IReadOnlyList<OnnxDim> dims, string? text, string inputName)
    {
        Size2? given = null;
        if (text != null)
        {
            var parts = text.Split(['x', 'X', '×', ','], StringSplitOptions.TrimEntries);
            if (parts.Length != 2 || !int.TryParse(parts[0], out int h) || !int.TryParse(parts[1], out int w) || h < 1 || w < 1)
                throw new ArgumentException($"--size must be HxW with two positive integers (e.g. 224x224), not '{text}'.");
            given = new Size2(h, w);
        }
        if (dims[2].Value is { } height && dims[3].Value is { } width)
        {
            var fixedSize = new Size2((int)height, (int)width);
            if (given is { } g && g != fixedSize) throw new ArgumentException($"--size {text} does not match input '{inputName}', which is {height}x{width}.");
            return fixedSize;
        }
        return given ?? throw new ArgumentException($"input '{inputName}' has a symbolic height or width; give the size with --size HxW.");
    }
}
