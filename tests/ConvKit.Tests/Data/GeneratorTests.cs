using ConvKit.NN;

namespace ConvKit.Tests.Data;

public class GeneratorTests
{
    [Fact]
    public void TheSameSeedGivesTheSameStreamAndTheStateReplaysIt()
    {
        var a = new Generator(42);
        var b = new Generator(42);
        Assert.Equal(Enumerable.Range(0, 10).Select(_ => a.NextDouble()), Enumerable.Range(0, 10).Select(_ => b.NextDouble()));

        ulong saved = a.State;
        var next = Enumerable.Range(0, 5).Select(_ => a.Next(100)).ToArray();
        a.State = saved;
        Assert.Equal(next, Enumerable.Range(0, 5).Select(_ => a.Next(100)));
        Assert.NotEqual(new Generator(43).NextDouble(), new Generator(42).NextDouble());
    }

    [Fact]
    public void ValuesStayInTheirRangesAndLookUniform()
    {
        var random = new Generator(7);
        var doubles = Enumerable.Range(0, 20_000).Select(_ => random.NextDouble()).ToArray();
        Assert.All(doubles, d => Assert.InRange(d, 0, 0.9999999999));
        Assert.Equal(0.5, doubles.Average(), 1);
        Assert.All(Enumerable.Range(0, 1000).Select(_ => random.NextSingle()), f => Assert.True(f is >= 0 and < 1));
        var counts = new int[6];
        for (int i = 0; i < 6000; i++) counts[random.Next(1, 7) - 1]++;
        Assert.All(counts, c => Assert.InRange(c, 850, 1150));
        Assert.Equal(5, random.Next(5, 5));
    }

    [Fact]
    public void SubStreamsDependOnlyOnTheirKeys()
    {
        Assert.Equal(Generator.For(1, 2, 3).NextUInt64(), Generator.For(1, 2, 3).NextUInt64());
        Assert.NotEqual(Generator.For(1, 2, 3).NextUInt64(), Generator.For(1, 3, 2).NextUInt64());
        Assert.NotEqual(Generator.For(1, 2).NextUInt64(), Generator.For(2, 2).NextUInt64());
    }

    [Fact]
    public void UseMakesLayerInitialisationAndDropoutReproducible()
    {
        Tensor Build(int seed = 5)
        {
            using var _ = Generator.Use(new Generator(seed));
            var layer = new Linear(4, 3);
            var dropped = new Dropout(0.5f).Forward(Tensor.Ones(1, 20));
            return Tensor.Concat([layer.Weight.Detach().Flatten(), dropped.Flatten()]);
        }
        Assert.Equal(Build().ToArray(), Build().ToArray());
        Assert.NotEqual(Build().ToArray(), Build(6).ToArray()); // both come from the generator in use, not from elsewhere
        Assert.Same(Random.Shared, Generator.Current);
    }

    [Fact]
    public void ScopesNest()
    {
        var outer = new Generator(1);
        var inner = new Generator(2);
        using (Generator.Use(outer))
        {
            using (Generator.Use(inner)) Assert.Same(inner, Generator.Current);
            Assert.Same(outer, Generator.Current);
        }
    }
}
