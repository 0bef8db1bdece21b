using ConvKit.NN;

namespace ConvKit.Tests.NN;

public class FlattenTests
{
    [Fact]
    public void FlattenKeepsTheBatchAxisByDefault()
    {
        var x = Tensor.Randn([2, 3, 4, 5], seed: 5);
        Assert.Equal([2, 60], new Flatten().Forward(x).Shape);
        Assert.Equal([2, 12, 5], new Flatten(1, 2).Forward(x).Shape);
        Assert.Equal("Flatten(startDim=1, endDim=-1)", new Flatten().ToString());
    }
}
