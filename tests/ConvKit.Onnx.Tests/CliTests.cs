using System.Text.Json;
using ConvKit.Ops;
using ConvKit.Vision.Imaging;

namespace ConvKit.Onnx.Tests;

/// <summary><c>convkit onnx info</c> and <c>convkit onnx run</c>.</summary>
public class CliTests
{
    /// <summary>Runs a <c>convkit</c> command line in process: its exit code, standard output and standard error.</summary>
    internal static (int Code, string Output, string Error) Cli(params string[] args)
    {
        var (output, error) = (new StringWriter(), new StringWriter());
        int code = ConvKit.Cli.Program.Run(args, output, error);
        return (code, output.ToString(), error.ToString());
    }

    [Fact]
    public void InfoDescribesResNet18()
    {
        var (code, text, error) = Cli("onnx", "info", Reference.ResNet18Path, "--json");
        Assert.True(code == 0, error);
        var json = JsonDocument.Parse(text).RootElement;
        var model = OnnxModel.Load(Reference.ResNet18Path);
        Assert.Equal(8, json.GetProperty("opset").GetInt32());
        var input = json.GetProperty("inputs").EnumerateArray().Single();
        Assert.Equal(model.Inputs[0].Name, input.GetProperty("name").GetString());
        Assert.Equal([1, 3, 224, 224], input.GetProperty("shape").EnumerateArray().Select(d => d.GetInt32()));
        Assert.Equal([1, 512, 1, 1], json.GetProperty("outputs")[0].GetProperty("shape").EnumerateArray().Select(d => d.GetInt32()));
        Assert.Equal(22, json.GetProperty("op_histogram").GetProperty("Conv").GetInt32());
        Assert.Equal(model.ParameterCount(), json.GetProperty("parameters").GetInt64());

        var (plainCode, plain, _) = Cli("onnx", "info", Reference.ResNet18Path);
        Assert.Equal(0, plainCode);
        Assert.Contains("BatchNormalization", plain);
        Assert.Contains("[1, 3, 224, 224]", plain);
    }

    [Fact]
    public void RunPrintsTheLargestOutputs()
    {
        // A model with symbolic height and width: a 1x1 convolution to 4 channels, then global average pooling.
        var builder = new GraphBuilder(13).Input("image", [1, 3, 5, 5], symbols: ["n", null, "h", "w"]).Weight("w", [4, 3, 1, 1])
            .Node("Conv", ["image", "w"], ["c"]).Node("GlobalAveragePool", ["c"], ["p"]).Node("Flatten", ["p"], ["y"]).Output("y");
        string dir = Directory.CreateTempSubdirectory("convkit-onnx-cli").FullName;
        try
        {
            string modelPath = Path.Combine(dir, "tiny.onnx"), imagePath = Path.Combine(dir, "image.png");
            File.WriteAllBytes(modelPath, builder.Bytes());
            ImageFiles.SavePng(Tensor.Rand([3, 12, 10], seed: 4), imagePath);

            var (code, text, error) = Cli("onnx", "run", modelPath, imagePath, "--size", "6x8", "--top", "2", "--json");
            Assert.True(code == 0, error);
            var result = JsonDocument.Parse(text).RootElement.GetProperty("results")[0];

            // The same preprocessing by hand: resize, ImageNet normalisation.
            var image = ImageFiles.Load(imagePath, 3, new Size2(6, 8));
            var normalized = (image - Tensor.FromArray([0.485f, 0.456f, 0.406f], 3, 1, 1)) / Tensor.FromArray([0.229f, 0.224f, 0.225f], 3, 1, 1);
            var expected = OnnxModel.Load(modelPath).Forward(normalized.Reshape(1, 3, 6, 8)).ToArray();
            int best = Array.IndexOf(expected, expected.Max());
            Assert.Equal([1, 4], result.GetProperty("output_shape").EnumerateArray().Select(d => d.GetInt32()));
            Assert.Equal(2, result.GetProperty("top").GetArrayLength());
            Assert.Equal(best, result.GetProperty("top")[0].GetProperty("index").GetInt32());
            Assert.Equal(expected[best], result.GetProperty("top")[0].GetProperty("value").GetDouble(), 4);
            Assert.Equal(F.Softmax(Tensor.FromArray(expected)).ToArray()[best], result.GetProperty("top")[0].GetProperty("probability").GetDouble(), 4);

            // The table for people: the output's shape (in brackets, which the console must not read as markup) and the top index.
            var (tableCode, table, tableError) = Cli("onnx", "run", modelPath, imagePath, "--size", "6x8", "--top", "2");
            Assert.True(tableCode == 0, tableError);
            Assert.Contains("[1, 4]", table);

            // Symbolic size without --size is a one-line error.
            var (missingCode, _, missing) = Cli("onnx", "run", modelPath, imagePath);
            Assert.Equal(1, missingCode);
            Assert.Contains("--size", missing);

            // White must be a positive pixel value.
            foreach (string scale in new[] { "0", "-255" })
            {
                var (scaleCode, _, scaleError) = Cli("onnx", "run", modelPath, imagePath, "--size", "6x8", "--scale", scale);
                Assert.Equal(1, scaleCode);
                Assert.Equal($"convkit: --scale must be a positive number (1 when the model takes pixels in [0, 1], 255 for [0, 255]), not {scale}.", scaleError.Trim());
            }
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    /// <summary>
    /// onnx run says what an output is: scores get class names from --labels; a pooled (1, C, 1, 1) output is a feature
    /// vector, printed with its L2 norm and written to a CSV with -o; a (1, C, H, W) map gets its per-pixel classes and
    /// is drawn into the -o folder. No softmax "probability" is put on features or maps.
    /// </summary>
    [Fact]
    public void RunKnowsScoresFeaturesAndMaps()
    {
        string dir = Directory.CreateTempSubdirectory("convkit-onnx-kinds").FullName;
        try
        {
            string imagePath = Path.Combine(dir, "image.png");
            ImageFiles.SavePng(Tensor.Rand([3, 12, 10], seed: 4), imagePath);
            string Model(string name, GraphBuilder builder)
            {
                string modelPath = Path.Combine(dir, name);
                File.WriteAllBytes(modelPath, builder.Bytes());
                return modelPath;
            }
            GraphBuilder Conv(int outputs) => new GraphBuilder(13).Input("image", [1, 3, 6, 8]).Weight("w", [outputs, 3, 1, 1]).Node("Conv", ["image", "w"], ["c"]);
            string scores = Model("scores.onnx", Conv(3).Node("GlobalAveragePool", ["c"], ["p"]).Node("Flatten", ["p"], ["y"]).Output("y"));
            string features = Model("features.onnx", Conv(4).Node("GlobalAveragePool", ["c"], ["y"]).Output("y"));
            string map = Model("map.onnx", Conv(2).Output("c"));

            // Scores named by a labels file, one a line; a file of the wrong length is refused.
            string labels = Path.Combine(dir, "labels.txt");
            File.WriteAllLines(labels, ["cat", "", "dog", "fish"]);
            var named = Json("onnx", "run", scores, imagePath, "--labels", labels).GetProperty("results")[0];
            Assert.Equal("scores", named.GetProperty("kind").GetString());
            Assert.Equal(["cat", "dog", "fish"], named.GetProperty("top").EnumerateArray().Select(t => t.GetProperty("class").GetString()).Order());
            File.WriteAllLines(labels, ["cat", "dog"]);
            var (code, _, error) = Cli("onnx", "run", scores, imagePath, "--labels", labels);
            Assert.Equal(1, code);
            Assert.Contains($"--labels '{labels}' names 2 classes but the model gives 3 scores", error);

            // A feature vector: its norm, and the values in the CSV.
            string csv = Path.Combine(dir, "out", "features.csv");
            var vector = Json("onnx", "run", features, imagePath, "-o", csv);
            var result = vector.GetProperty("results")[0];
            Assert.Equal("features", result.GetProperty("kind").GetString());
            Assert.False(result.TryGetProperty("top", out _));
            var image = ImageFiles.Load(imagePath, 3, new Size2(6, 8));
            var normalized = (image - Tensor.FromArray([0.485f, 0.456f, 0.406f], 3, 1, 1)) / Tensor.FromArray([0.229f, 0.224f, 0.225f], 3, 1, 1);
            var expected = OnnxModel.Load(features).Forward(normalized.Reshape(1, 3, 6, 8)).ToArray();
            Assert.Equal(Math.Sqrt(expected.Sum(v => (double)v * v)), result.GetProperty("norm").GetDouble(), 4);
            var line = File.ReadAllLines(csv).Single().Split(',');
            Assert.Equal(imagePath, line[0]);
            Assert.Equal(expected, line[1..].Select(v => float.Parse(v, System.Globalization.CultureInfo.InvariantCulture)).ToArray());
            var (_, table, _) = Cli("onnx", "run", features, imagePath);
            Assert.Contains("feature vector [1, 4, 1, 1]", table);
            Assert.DoesNotContain("probability", table);

            // A map: per-pixel classes that cover the picture, drawn into the folder.
            string folder = Path.Combine(dir, "maps");
            var drawn = Json("onnx", "run", map, imagePath, "-o", folder).GetProperty("results")[0];
            Assert.Equal("map", drawn.GetProperty("kind").GetString());
            Assert.Equal(1, drawn.GetProperty("classes").EnumerateArray().Sum(c => c.GetProperty("fraction").GetDouble()), 6);
            Assert.True(File.Exists(Path.Combine(folder, "image-map.png")));
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    static JsonElement Json(params string[] args)
    {
        var (code, output, error) = Cli([.. args, "--json"]);
        Assert.True(code == 0, error);
        return JsonDocument.Parse(output).RootElement;
    }

    [Fact]
    public void BadFilesAreOneLineErrors()
    {
        var (code, _, error) = Cli("onnx", "info", "/nonexistent/model.onnx");
        Assert.Equal(1, code);
        Assert.Contains("does not exist", error);

        string path = Path.GetTempFileName();
        try
        {
            File.WriteAllBytes(path, [0x08, 0x07, 0x12, 0xff, 0xff]);
            (code, _, error) = Cli("onnx", "info", path);
            Assert.Equal(1, code);
            Assert.Contains(path, error);
            Assert.Single(error.Trim().Split('\n'));
        }
        finally { File.Delete(path); }
    }
}
