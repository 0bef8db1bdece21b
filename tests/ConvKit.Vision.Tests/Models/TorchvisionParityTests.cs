using ConvKit.IO;
using ConvKit.NN;
using ConvKit.Tests;
using ConvKit.Vision.Models;

namespace ConvKit.Vision.Tests.Models;

/// <summary>
/// The zoo against torchvision 0.14 (and the PyTorch twins of the models it lacks), from tools/fixtures/gen_zoo.py:
/// state-dict names and shapes, parameter counts, eval-mode logits with identical weights, and the layer table.
/// </summary>
public class TorchvisionParityTests
{
    static readonly System.Text.Json.JsonElement fixture = TorchPattern.Fixture;

    static Module Build(string name) => name == "googlenet-noaux" ? new GoogLeNet(auxLogits: false) : ModelZoo.Create(name);

    // Every model of the fixture but the VGG variants other than VGG-16 and -19: building a VGG costs seconds
    // (138M parameters to initialise), and they share one code path; VGG-11-BN's names are checked by the strict
    // load of the logits test.
    public static TheoryData<string> ModelNames() =>
        [.. fixture.GetProperty("models").EnumerateObject().Select(m => m.Name).Where(n => !n.StartsWith("vgg") || n is "vgg16" or "vgg19")];

    [Theory]
    [MemberData(nameof(ModelNames))]
    public void StateDictNamesShapesAndParameterCountAreTorchvisions(string name)
    {
        var model = Build(name);
        var expected = TorchPattern.StateEntries(name).Select(e => $"{e.Name} {ModelChecks.Format(e.Shape)}");
        var actual = model.StateDict().Select(e => $"{e.Key} {ModelChecks.Format(e.Value.Shape)}");
        Assert.Equal(expected, actual);
        Assert.Equal(fixture.GetProperty("models").GetProperty(name).GetProperty("parameters").GetInt64(), model.ParameterCount());
    }

    public static TheoryData<int, string> LogitCases()
    {
        var data = new TheoryData<int, string>();
        int i = 0;
        foreach (var c in fixture.GetProperty("logits").EnumerateArray()) data.Add(i++, c.GetProperty("model").GetString()!);
        return data;
    }

    [Theory]
    [MemberData(nameof(LogitCases))]
    public void EvalLogitsWithTorchvisionWeightsMatchPyTorch(int index, string name)
    {
        var c = fixture.GetProperty("logits")[index];
        var model = ModelZoo.Create(name);
        model.LoadStateDict(TorchPattern.StateDict(name), strict: true);
        model.Eval();
        Tensor logits;
        using (Tensor.NoGrad()) logits = model.Forward(TorchPattern.Input(Fixtures.Ints(c.GetProperty("input"))));

        var expected = Fixtures.Doubles(c.GetProperty("expected"));
        double scale = expected.Max(Math.Abs);
        Assert.Equal(expected.Length, logits.Numel);
        // 1e-4 relative to the logits' scale: float32 sums over dozens of layers against PyTorch's float64.
        Close.All(expected, logits.ToArray(), 1e-4, 1e-4 * scale, $"{name} logits");
    }

    [Fact]
    public void TorchvisionNamedSafetensorsLoadStrictly()
    {
        var state = TorchPattern.StateDict("resnet18");
        string path = Path.Combine(Path.GetTempPath(), $"convkit-resnet18-{Guid.NewGuid():N}.safetensors");
        try
        {
            Safetensors.Save(path, state);
            var model = ResNet.ResNet18();
            model.LoadSafetensors(path, strict: true);
            foreach (var (key, value) in model.StateDict())
                Assert.True(state[key].ToArray().SequenceEqual(value.ToArray()), $"{key} differs after loading");

            state.Remove("fc.bias");
            Safetensors.Save(path, state);
            var error = Assert.Throws<ArgumentException>(() => ResNet.ResNet18().LoadSafetensors(path, strict: true));
            Assert.Contains("fc.bias", error.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    public static TheoryData<string> SummaryModels() => [.. fixture.GetProperty("summaries").EnumerateArray().Select(s => s.GetProperty("model").GetString()!)];

    [Theory]
    [MemberData(nameof(SummaryModels))]
    public void SummaryListsTorchvisionsConvolutionsAndLinearLayersWithTheirShapesAndMacs(string name)
    {
        var c = fixture.GetProperty("summaries").EnumerateArray().Single(s => s.GetProperty("model").GetString() == name);
        var summary = ModelSummary.Of(ModelZoo.Create(name), [1, .. Fixtures.Ints(c.GetProperty("input"))]);

        var expected = c.GetProperty("layers").EnumerateArray()
            .Select(l => $"{l[0].GetString()} {l[1].GetString()} {ModelChecks.Format(Fixtures.Ints(l[2]))} {l[3].GetInt64()}");
        var actual = summary.Layers.Where(l => l.Type is "Conv2d" or "Linear")
            .Select(l => $"{l.Name} {l.Type} {ModelChecks.Format(l.OutputShape)} {l.MultiplyAccumulates}");
        Assert.Equal(expected, actual);
        Assert.Equal(c.GetProperty("total_macs").GetInt64(), summary.TotalMultiplyAccumulates);
    }
}
