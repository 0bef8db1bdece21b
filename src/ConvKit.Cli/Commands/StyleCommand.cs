using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using ConvKit.Cli.Charts;
using ConvKit.IO;
using ConvKit.Onnx;
using ConvKit.Ops;
using ConvKit.Vision.Imaging;
using ConvKit.Vision.Style;
using Spectre.Console;

namespace ConvKit.Cli.Commands;

/// <summary>
/// <c>convkit style CONTENT STYLE -o out.png</c>: neural style transfer. Writes the result, a strip (content | style |
/// result) and the chart of every cost term per step beside it.
/// </summary>
static class StyleCommand
{
    /// <summary>Where the NuGet package Microsoft.ML.DnnImageFeaturizer.ResNet18 puts its network beside the program.</summary>
    internal static string PackagedResNet18 => Path.Combine(AppContext.BaseDirectory, "DnnImageModels", "ResNet18Onnx", "ResNet18.onnx");

    public static Command Create()
    {
        var content = new Argument<string>("content") { Description = "The picture whose shapes to keep." };
        var style = new Argument<string>("style") { Description = "The picture whose textures and colours to paint with." };
        var output = new Option<string>("--output", "-o") { Description = "The result (.png, .jpg or .webp); the strip and the loss chart are written beside it as PNG.", DefaultValueFactory = _ => "style.png" };
        var size = new Option<int>("--size") { Description = "The result's longer side in pixels (the content picture is resized to about it, keeping its aspect ratio, with sides the network can take).", DefaultValueFactory = _ => 256 };
        var steps = new Option<int>("--steps") { Description = "Cost evaluations (forward and backward passes) per scale.", DefaultValueFactory = _ => 300 };
        var contentWeight = new Option<double>("--content-weight") { Description = "α, the content cost's weight.", DefaultValueFactory = _ => new StyleTransferOptions().ContentWeight };
        var styleWeight = new Option<double>("--style-weight") { Description = "β, the style cost's weight.", DefaultValueFactory = _ => new StyleTransferOptions().StyleWeight };
        var tvWeight = new Option<double>("--tv-weight") { Description = "γ, the weight of the total-variation (smoothness) term.", DefaultValueFactory = _ => new StyleTransferOptions().TotalVariationWeight };
        var contentLayer = new Option<string?>("--content-layer") { Description = "The content layer (default: the network's: layer3 for resnet18, relu4_2 for vgg19)." };
        var layers = new Option<string?>("--layers") { Description = "Style layers, comma-separated, each optionally NAME:WEIGHT (default: the network's, equally weighted)." };
        var network = new Option<string>("--network") { Description = "resnet18 (the packaged ImageNet ResNet-18) or vgg19:WEIGHTS.safetensors (torchvision's VGG-19 state dict).", DefaultValueFactory = _ => "resnet18" };
        var optimizer = new Option<string>("--optimizer") { Description = "lbfgs or adam.", DefaultValueFactory = _ => "lbfgs" };
        var learningRate = new Option<double?>("--lr") { Description = "The optimiser's learning rate (default 1 for lbfgs, 0.02 for adam)." };
        var start = new Option<string>("--init") { Description = "Start from the content picture or from noise.", DefaultValueFactory = _ => "content" };
        var scales = new Option<int>("--scales") { Description = "Optimise at this many sizes, coarse to fine (each half the next).", DefaultValueFactory = _ => 1 };
        var seed = new Option<int>("--seed") { Description = "Seeds the noise of --init noise.", DefaultValueFactory = _ => 42 };
        var command = new Command("style", """
            Paint the content picture in the style of the other (neural style transfer): gradient descent changes the
            pixels to lower α·J_content + β·J_style (+ γ·TV) while a pretrained network stays frozen. Grey and RGBA
            pictures are read as RGB; the style picture is scaled to cover the result's size and centre-cropped.
            """) { content, style, output, size, steps, contentWeight, styleWeight, tvWeight, contentLayer, layers, network, optimizer, learningRate, start, scales, seed };
        CommandOutput.AddJsonOption(command);
        DeviceChoice.AddOption(command);
        CommandOutput.AddExamples(command, """
            convkit style photo.jpg painting.jpg -o painted.png
            convkit style photo.jpg brick.png --size 384 --scales 2 --optimizer adam --steps 500
            convkit style photo.jpg painting.jpg --network vgg19:vgg19.safetensors --layers relu1_1,relu2_1,relu3_1:2
            """);
        command.SetAction(parsed =>
        {
            var options = new StyleTransferOptions
            {
                Steps = parsed.GetValue(steps),
                ContentWeight = parsed.GetValue(contentWeight),
                StyleWeight = parsed.GetValue(styleWeight),
                TotalVariationWeight = parsed.GetValue(tvWeight),
                ContentLayer = parsed.GetValue(contentLayer),
                StyleLayers = parsed.GetValue(layers) is { } text ? StyleLayers(text) : null,
                Optimizer = parsed.GetValue(optimizer) switch
                {
                    "lbfgs" => StyleOptimizer.Lbfgs,
                    "adam" => StyleOptimizer.Adam,
                    var other => throw new ArgumentException($"--optimizer: unknown optimiser '{other}' (use lbfgs or adam)."),
                },
                LearningRate = parsed.GetValue(learningRate),
                Start = parsed.GetValue(start) switch
                {
                    "content" => StyleStart.Content,
                    "noise" => StyleStart.Noise,
                    var other => throw new ArgumentException($"--init: unknown start '{other}' (use content or noise)."),
                },
                Scales = parsed.GetValue(scales),
                Seed = parsed.GetValue(seed),
            };
            return Run(parsed.GetValue(content)!, parsed.GetValue(style)!, parsed.GetValue(output)!, parsed.GetValue(size), parsed.GetValue(network)!,
                options, new CommandOutput(parsed));
        });
        return command;
    }

    /// <summary>"relu1_1,relu2_1:2" → [(relu1_1, 1), (relu2_1, 2)].</summary>
    static List<(string Layer, double Weight)> StyleLayers(string text) => text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
        .Select(part =>
        {
            int colon = part.LastIndexOf(':');
            if (colon < 0) return (part, 1.0);
            return double.TryParse(part[(colon + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture, out double weight)
                ? (part[..colon], weight)
                : throw new ArgumentException($"--layers: '{part}' should be NAME or NAME:WEIGHT with a number after the colon.");
        }).ToList();

    static StyleNetwork LoadNetwork(string choice)
    {
        if (choice == "resnet18")
        {
            if (!File.Exists(PackagedResNet18))
                throw new FileNotFoundException($"the packaged ResNet-18 is missing: looked for '{PackagedResNet18}' (the NuGet package " +
                    "Microsoft.ML.DnnImageFeaturizer.ResNet18 puts it there when convkit is built).");
            // Inference-time batch norm folds into the convolutions: the network is frozen.
            return StyleNetwork.ResNet18(OnnxModel.Load(PackagedResNet18, new OnnxImportOptions { FoldBatchNorm = true, AnyPictureSize = true }));
        }
        if (choice.StartsWith("vgg19:", StringComparison.Ordinal))
        {
            string weights = choice["vgg19:".Length..];
            if (!File.Exists(weights)) throw new FileNotFoundException($"--network vgg19: the weights file '{weights}' does not exist.", weights);
            return StyleNetwork.Vgg19(weights);
        }
        throw new ArgumentException($"--network: unknown network '{choice}' (use resnet18, or vgg19:WEIGHTS.safetensors with torchvision's VGG-19 weights).");
    }

    static int Run(string contentPath, string stylePath, string outputPath, int size, string networkChoice, StyleTransferOptions options, CommandOutput output)
    {
        if (size < 16) throw new ArgumentException($"--size must be at least 16 pixels, not {size}.");
        ImageFiles.PrepareToSave(outputPath);
        var network = LoadNetwork(networkChoice);
        var transfer = new StyleTransfer(network, options);
        var (originalHeight, originalWidth) = PictureSize(contentPath);
        var content = ImageFiles.Load(contentPath, 3, transfer.SizeFor(originalHeight, originalWidth, size));
        var style = ImageFiles.Load(stylePath, 3);
        int height = content.Shape[1], width = content.Shape[2];

        var history = new List<StyleStep>();
        var clock = Stopwatch.StartNew();
        Tensor result;
        if (output.Json) result = transfer.Run(content, style, history.Add);
        else
        {
            output.Line($"[bold]{Markup.Escape(network.Name)}[/], {width}×{height} pixels, {options.Optimizer.ToString().ToLowerInvariant()}, " +
                $"content layer {Markup.Escape(options.ContentLayer ?? network.DefaultContentLayer)}, style layers " +
                Markup.Escape(string.Join(", ", options.StyleLayers?.Select(l => $"{l.Layer}:{l.Weight:G3}") ?? network.DefaultStyleLayers)));
            Tensor? painted = null;
            output.Console.Progress()
                .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
                .Start(context =>
                {
                    var task = context.AddTask("style transfer", maxValue: options.Steps * options.Scales);
                    painted = transfer.Run(content, style, step =>
                    {
                        history.Add(step);
                        task.Value = Math.Min(task.MaxValue, history.Count);
                        task.Description = (options.Scales > 1 ? $"scale {step.Scale + 1}/{options.Scales}  " : "") +
                            $"step {step.Step}  content {step.Content:G3}  style {step.Style:G3}" +
                            (options.TotalVariationWeight > 0 ? $"  tv {step.TotalVariation:G3}" : "") + $"  total {step.Total:G4}";
                    });
                    task.Value = task.MaxValue;
                });
            result = painted!;
        }
        double seconds = clock.Elapsed.TotalSeconds;

        string stem = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(outputPath))!, Path.GetFileNameWithoutExtension(outputPath));
        string stripPath = stem + "-strip.png", chartPath = stem + "-loss.png";
        Directory.CreateDirectory(Path.GetDirectoryName(stem)!);
        ImageFiles.Save(result, outputPath);
        ImageFiles.SavePng(Strip(content, StyleTransfer.CoverAndCrop(style, height, width), result), stripPath);
        TrainingCharts.SaveStyleCosts(history, options, chartPath, $"{network.Name}, {Path.GetFileName(contentPath)} in the style of {Path.GetFileName(stylePath)}");

        var first = history.Where(s => s.Scale == options.Scales - 1).First();
        var last = history[^1];
        if (output.Json)
        {
            output.WriteJson(new
            {
                content = contentPath, style = stylePath, output = outputPath, strip = stripPath, chart = chartPath, network = network.Name,
                width, height, evaluations = history.Count, seconds,
                first = new { first.Content, first.Style, first.TotalVariation, first.Total },
                last = new { last.Content, last.Style, last.TotalVariation, last.Total },
            });
            return 0;
        }
        output.Line($"{history.Count} evaluations in {seconds:F1} s ({1000 * seconds / history.Count:F0} ms each). " +
            $"Style cost {first.Style:G3} → {last.Style:G3} ({first.Style / Math.Max(last.Style, 1e-30):G3}× lower), content cost {first.Content:G3} → {last.Content:G3}.");
        output.Line($"Wrote {Markup.Escape(outputPath)}, {Markup.Escape(stripPath)} (content | style | result) and {Markup.Escape(chartPath)}.");
        return 0;
    }

    /// <summary>The picture's height and width, read from its header.</summary>
    static (int Height, int Width) PictureSize(string path)
    {
        InputFiles.Require(path, "image");
        using var codec = SkiaSharp.SKCodec.Create(path) ?? throw new InvalidDataException($"'{path}' is not a picture SkiaSharp can decode.");
        return (codec.Info.Height, codec.Info.Width);
    }

    /// <summary>The pictures (3, H, W) side by side, 8 white pixels apart.</summary>
    static Tensor Strip(params Tensor[] pictures)
    {
        int height = pictures[0].Shape[1];
        var gap = Tensor.Ones([3, height, 8]);
        var parts = pictures.SelectMany((p, i) => i == 0 ? [p] : new[] { gap, p }).ToArray();
        return F.Concat(parts, 2);
    }
}
