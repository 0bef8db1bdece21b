using System.Text.Json;
using ConvKit.Ops;
using ConvKit.Vision.Imaging;

namespace ConvKit.Onnx.Tests;

/// <summary><c>convkit onnx info</c> and <c>convkit onnx run</c>.</summary>
public class CliTests
{
    static (int Code, string Output, string Error) Cli(params string[] args)
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
