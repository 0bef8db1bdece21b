using System.Text.Json;
using static ConvKit.Vision.Tests.Cli.CliTests;
using ConvKit.IO;
using ConvKit.Vision.Imaging;
using ConvKit.Vision.Tests.Models;
using ConvKit.Vision.Tests.Style;
using SkiaSharp;

namespace ConvKit.Vision.Tests.Commands;

/// <summary>
/// <c>convkit style</c> end to end with the packaged ResNet-18 (copied beside the program by the build) and with VGG-19
/// weights under torchvision's names: a grey content picture and an RGBA style picture of another aspect ratio give a
/// result, a strip and a chart; bad choices end with one clear line.
/// </summary>
public sealed class StyleCommandTests : IDisposable
{
    readonly string directory = Directory.CreateTempSubdirectory("convkit-style-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    /// <summary>A grey picture, 90 × 60, with a bright disc on a gradient.</summary>
    string GreyContent()
    {
        string path = Path.Combine(directory, "grey.png");
        var values = new float[60 * 90];
        for (int y = 0; y < 60; y++)
            for (int x = 0; x < 90; x++)
                values[y * 90 + x] = (x - 45) * (x - 45) + (y - 30) * (y - 30) < 400 ? 0.9f : x / 120f;
        ImageFiles.SavePng(Tensor.FromArray(values, 1, 60, 90), path);
        return path;
    }

    /// <summary>A half-transparent striped RGBA picture, 40 × 100 (portrait, unlike the content).</summary>
    string RgbaStyle()
    {
        string path = Path.Combine(directory, "stripes.png");
        using var bitmap = new SKBitmap(new SKImageInfo(40, 100, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        for (int y = 0; y < 100; y++)
            for (int x = 0; x < 40; x++)
                bitmap.SetPixel(x, y, (x + y) / 6 % 2 == 0 ? new SKColor(200, 40, 30, 128) : new SKColor(20, 60, 220, 255));
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        File.WriteAllBytes(path, data.ToArray());
        return path;
    }

    [Fact]
    public void PackagedResNet18PaintsAGreyPictureWithAnRgbaStyle()
    {
        string result = Path.Combine(directory, "out", "painted.png");
        var (code, output, error) = Run("style", GreyContent(), RgbaStyle(), "-o", result, "--size", "96", "--steps", "8", "--json");
        Assert.True(code == 0, error);
        var json = JsonDocument.Parse(output).RootElement;
        Assert.Equal("resnet18", json.GetProperty("network").GetString());
        // 90 × 60 scaled to a longer side of 96 with sides in multiples of 32: 96 × 64.
        Assert.Equal((96, 64), (json.GetProperty("width").GetInt32(), json.GetProperty("height").GetInt32()));
        Assert.True(json.GetProperty("evaluations").GetInt32() >= 8);
        double firstStyle = json.GetProperty("first").GetProperty("style").GetDouble(), lastStyle = json.GetProperty("last").GetProperty("style").GetDouble();
        Assert.True(lastStyle < firstStyle, $"style cost {firstStyle} → {lastStyle}");

        var painted = ImageFiles.Load(result);
        Assert.Equal([3, 64, 96], painted.Shape);
        Assert.Equal([3, 64, 3 * 96 + 2 * 8], ImageFiles.Load(Path.Combine(directory, "out", "painted-strip.png")).Shape);
        Assert.True(File.Exists(Path.Combine(directory, "out", "painted-loss.png")));
        // The grey content became coloured: the style's colours reached the pixels.
        var rgb = painted.ToArray();
        int plane = 64 * 96;
        Assert.True(Enumerable.Range(0, plane).Max(i => Math.Abs(rgb[i] - rgb[2 * plane + i])) > 0.05, "the result is still grey");
    }

    [Fact]
    public void Vgg19WeightsUnderTorchvisionNamesWithChosenLayers()
    {
        string result = Path.Combine(directory, "vgg.png");
        var (code, output, error) = Run("style", GreyContent(), RgbaStyle(), "-o", result, "--size", "48", "--steps", "3",
            "--network", "vgg19:" + StyleCostTests.PatternVgg19File(), "--optimizer", "adam", "--layers", "relu1_1, relu2_1:2",
            "--content-layer", "relu3_1", "--init", "noise", "--scales", "2", "--json");
        Assert.True(code == 0, error);
        var json = JsonDocument.Parse(output).RootElement;
        Assert.Equal("vgg19", json.GetProperty("network").GetString());
        Assert.Equal(6, json.GetProperty("evaluations").GetInt32());   // Adam: exactly 3 per scale
        Assert.Equal([3, 32, 48], ImageFiles.Load(result).Shape);
    }

    [Fact]
    public void BadChoicesEndWithOneLineNamingTheProblem()
    {
        string content = GreyContent(), style = RgbaStyle(), output = Path.Combine(directory, "x.png");
        string vgg16 = Path.Combine(directory, "vgg16.safetensors");
        Safetensors.Save(vgg16, TorchPattern.StateDict("vgg16", name => name.StartsWith("features.")));
        foreach (var (args, message) in new (string[], string)[]
        {
            (["--layers", "relu,layer9"], "no layer 'layer9'; valid names are [relu, layer1.0"),
            (["--content-layer", "conv4_2"], "no layer 'conv4_2'"),
            (["--network", "alexnet"], "unknown network 'alexnet'"),
            (["--network", "vgg19:" + Path.Combine(directory, "none.safetensors")], "does not exist"),
            (["--network", "vgg19:" + vgg16], "does not hold torchvision's VGG-19 weights"),
            (["--optimizer", "sgd"], "unknown optimiser 'sgd'"),
            (["--init", "blank"], "unknown start 'blank'"),
            (["--layers", "relu:heavy"], "NAME:WEIGHT"),
            (["--size", "8"], "--size must be at least 16"),
            (["-o", Path.Combine(directory, "x.bmp")], "'.bmp' is not a format ConvKit writes; end its name in .png, .jpg or .webp"),
            (["-o", directory], "is a folder; name a file"),
        })
        {
            string[] target = args.Contains("-o") ? [] : ["-o", output], size = args.Contains("--size") ? [] : ["--size", "32"];
            var (code, stdout, error) = Run(["style", content, style, .. target, .. size, "--steps", "1", .. args]);
            Assert.True(code != 0, $"{string.Join(' ', args)} succeeded");
            Assert.Equal("", stdout);
            Assert.StartsWith("convkit: ", error);
            Assert.Contains(message, error);
            Assert.Single(error.TrimEnd().Split('\n'));
        }
        var (missingCode, _, missing) = Run("style", Path.Combine(directory, "nowhere.png"), style, "-o", output);
        Assert.NotEqual(0, missingCode);
        Assert.Contains("nowhere.png", missing);
    }
}
