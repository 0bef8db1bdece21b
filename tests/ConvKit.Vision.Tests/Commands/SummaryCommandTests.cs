using System.Text.Json;
using ConvKit.Cli;
using ConvKit.Vision.Tests.Models;

namespace ConvKit.Vision.Tests.Commands;

public class SummaryCommandTests
{
    static (int ExitCode, string Output, string Error) Run(params string[] args)
    {
        var (output, error) = (new StringWriter(), new StringWriter());
        int code = Program.Run(args, output, error);
        return (code, output.ToString(), error.ToString());
    }

    static long TorchParameters(string model) =>
        TorchPattern.Fixture.GetProperty("models").GetProperty(model).GetProperty("parameters").GetInt64();

    [Fact]
    public void PrintsATableWithTotals()
    {
        var (code, output, error) = Run("summary", "small-cnn");
        Assert.Equal(0, code);
        Assert.Equal("", error);
        Assert.Contains("features.0.conv", output);
        Assert.Contains("[1, 32, 28, 28]", output);
        Assert.Contains($"Total params: {TorchParameters("small-cnn"):N0}", output);
    }

    [Fact]
    public void PrintsJsonForMachines()
    {
        var (code, output, _) = Run("summary", "lenet5", "--input", "1x32x32", "--classes", "7", "--json");
        Assert.Equal(0, code);
        var json = JsonDocument.Parse(output).RootElement;
        Assert.Equal("lenet5", json.GetProperty("model").GetString());
        Assert.Equal([1, 7], json.GetProperty("output_shape").EnumerateArray().Select(v => v.GetInt32()));
        var layers = json.GetProperty("layers").EnumerateArray().ToList();
        Assert.Equal(11, layers.Count);
        Assert.Equal(layers.Sum(l => l.GetProperty("macs").GetInt64()), json.GetProperty("total_macs").GetInt64());
        Assert.Equal(TorchParameters("lenet5") - 3 * 85, json.GetProperty("total_parameters").GetInt64());   // 7 classes, not 10
    }

    [Theory]
    [InlineData("unknown model 'no-such-net'", "summary", "no-such-net")]
    [InlineData("--input must be CxHxW", "summary", "lenet5", "--input", "3x22")]
    [InlineData("--input must be CxHxW", "summary", "lenet5", "--input", "0x32x32")]
    [InlineData("Linear", "summary", "lenet5", "--input", "1x64x64")]
    [InlineData("--classes must be positive", "summary", "lenet5", "--classes", "0")]
    [InlineData("--classes", "summary", "lenet5", "--classes", "many")]
    public void FailsWithOneLineError(string message, params string[] args)
    {
        var (code, output, error) = Run(args);
        Assert.NotEqual(0, code);
        Assert.Equal("", output);
        Assert.StartsWith("convkit: ", error);
        Assert.Contains(message, error);
        Assert.Single(error.TrimEnd().Split('\n'));
    }

    [Fact]
    public void AHugeInputIsSummarisedWithoutRunningTheModel()
    {
        // Run for real, the first layer's output alone would be 4 GiB; the layers state their shapes instead.
        var (code, output, error) = Run("summary", "vgg16", "--input", "3x4096x4096");
        Assert.Equal(0, code);
        Assert.Equal("", error);
        Assert.Contains("[1, 64, 4096, 4096]", output);
        Assert.Contains("[1, 512, 128, 128]", output);
        Assert.Contains("Input shape: [1, 3, 4096, 4096]   Output shape: [1, 1000]", output);
        Assert.Contains("Total params: 138,357,544", output);
    }

    [Fact]
    public void ModelsListsTheZoo()
    {
        var (code, output, _) = Run("models", "--json");
        Assert.Equal(0, code);
        var names = JsonDocument.Parse(output).RootElement.EnumerateArray().Select(m => m.GetProperty("name").GetString()).ToList();
        Assert.Contains("resnet50", names);
        Assert.Contains("unet", names);
        var (_, table, _) = Run("models");
        Assert.Contains("googlenet", table);
        Assert.Contains("1x28x28", table);
    }
}
