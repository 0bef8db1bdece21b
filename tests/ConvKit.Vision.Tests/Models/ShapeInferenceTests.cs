using ConvKit.NN;
using ConvKit.Vision.Models;

namespace ConvKit.Vision.Tests.Models;

/// <summary>Every zoo model states, without computing, the shapes a real forward pass gives, layer by layer.</summary>
public class ShapeInferenceTests
{
    public static TheoryData<string> Zoo()
    {
        var data = new TheoryData<string>();
        foreach (var (name, _) in ModelZoo.Models) data.Add(name);
        return data;
    }

    [Theory]
    [MemberData(nameof(Zoo))]
    public void TheStatedSummaryEqualsTheOneOfARealForwardPass(string name)
    {
        using var seeded = Generator.Use(new Generator(3));
        var entry = ModelZoo.Get(name);
        var model = entry.Create(entry.InChannels, entry.NumClasses);
        // A small size keeps the real pass cheap; a model that refuses it must refuse it in the same words both ways,
        // and is then compared at its designed size.
        int small = Math.Min(32, entry.InputSize.Height);
        if (!SameAt(model, [2, entry.InChannels, small, small]))
            Assert.True(SameAt(model, [1, entry.InChannels, entry.InputSize.Height, entry.InputSize.Width]), $"{name} refuses its designed size");
    }

    /// <summary>Asserts both summaries agree; false when both refused the shape (with one message).</summary>
    static bool SameAt(Module model, int[] shape)
    {
        ModelSummary? stated = null, ran = null;
        Exception? statedError = null, ranError = null;
        try { stated = ModelSummary.Infer(model, [shape]); } catch (ArgumentException e) { statedError = e; }
        try { ran = ModelSummary.Run(model, [shape]); } catch (ArgumentException e) { ranError = e; }
        Assert.Equal(ranError?.Message, statedError?.Message);
        if (ran == null) return false;

        Assert.True(stated!.Inferred);
        Assert.Equal(ran.Layers.Count, stated.Layers.Count);
        for (int i = 0; i < ran.Layers.Count; i++)
        {
            var (expected, actual) = (ran.Layers[i], stated.Layers[i]);
            Assert.Equal((expected.Name, expected.Type, expected.Parameters, expected.MultiplyAccumulates),
                (actual.Name, actual.Type, actual.Parameters, actual.MultiplyAccumulates));
            Assert.True(expected.OutputShape.SequenceEqual(actual.OutputShape),
                $"{expected.Name}: ran {ModelChecks.Format(expected.OutputShape)}, stated {ModelChecks.Format(actual.OutputShape)}");
        }
        Assert.Equal(ran.Outputs.Keys, stated.Outputs.Keys);
        Assert.Equal(ran.ToString(), stated.ToString());
        return true;
    }

    [Fact]
    public void GoogLeNetInTrainingModeStatesItsSideClassifiersOutputs()
    {
        var model = new GoogLeNet(numClasses: 7).Train();
        var stated = model.OutputShapes([2, 3, 64, 64]);
        TensorDict ran;
        using (Tensor.NoGrad()) ran = model.ForwardOutputs(Tensor.Zeros(2, 3, 64, 64));
        Assert.Equal(["logits", "aux1", "aux2"], stated.Keys);
        Assert.Equal(ran.Keys, stated.Keys);
        foreach (var (key, output) in ran) Assert.Equal(output.Shape, stated[key]);
    }

    [Fact]
    public void Vgg16AtFourThousandPixelsIsStatedWithoutAllocatingActivations()
    {
        var model = ModelZoo.Create("vgg16");
        ModelSummary.Of(model, 1, 3, 32, 32);   // first-use allocations out of the measurement

        long before = GC.GetAllocatedBytesForCurrentThread();
        var summary = ModelSummary.Of(model, 1, 3, 4096, 4096);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.True(summary.Inferred);
        Assert.Equal([1, 64, 4096, 4096], summary.Layers[0].OutputShape);   // 4 GiB had it been computed
        Assert.Equal([1, 1000], summary.OutputShape);
        Assert.Equal(138_357_544, summary.TotalParameters);
        Assert.True(allocated < 1024 * 1024, $"the summary allocated {allocated:N0} bytes");
    }
}
