using ConvKit.Vision.Models;

namespace ConvKit.Vision.Tests;

public class ModelZooTests
{
    [Fact]
    public void UnknownNameListsTheKnownModels()
    {
        var error = Assert.Throws<ArgumentException>(() => ModelZoo.Create("no-such-net"));
        Assert.Contains("no-such-net", error.Message);
        Assert.Contains("known models", error.Message);
    }
}
