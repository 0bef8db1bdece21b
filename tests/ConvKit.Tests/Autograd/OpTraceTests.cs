using ConvKit.Autograd;
using ConvKit.Ops;

namespace ConvKit.Tests.Autograd;

public class OpTraceTests
{
    [Fact]
    public void RecordsEachOpWithItsOperandsAndSettings()
    {
        var x = Tensor.Randn([2, 3], seed: 1);
        var weight = Tensor.Randn([4, 3], seed: 2);
        Tensor sum, y;
        using (var trace = OpTrace.Start())
        {
            Assert.True(OpTrace.IsActive);
            sum = x + 1f;
            y = F.Softmax(F.Linear(sum, weight), dim: 0);

            var softmax = trace.ProducerOf(y)!;
            Assert.Equal("Softmax", softmax.Op);
            Assert.Equal(0, softmax.Attributes["dim"]);
            var linear = trace.ProducerOf(softmax.Inputs[0]!)!;
            Assert.Equal("Linear", linear.Op);
            Assert.Same(sum, linear.Inputs[0]);
            Assert.Same(weight, linear.Inputs[1]);
            Assert.Null(linear.Inputs[2]);
            Assert.Equal("Add", trace.ProducerOf(sum)!.Op);
            Assert.Null(trace.ProducerOf(x));
        }
        Assert.False(OpTrace.IsActive);
    }

    [Fact]
    public void ACompositeOpIsTheProducerOfItsOutput()
    {
        using var trace = OpTrace.Start();
        var x = Tensor.Randn([2, 3, 4], seed: 1);
        var flat = F.Flatten(x, 1);                        // a Reshape inside
        var stacked = F.Stack([x, x], 0);                  // Unsqueezes (Reshapes) and a Concat
        Assert.Equal("Reshape", trace.ProducerOf(flat)!.Op);
        var concat = trace.ProducerOf(stacked)!;
        Assert.Equal(("Concat", 0), (concat.Op, (int)concat.Attributes["dim"]));
        Assert.All(concat.Inputs, input => Assert.Same(x, trace.ProducerOf(input!)!.Inputs[0]));
    }

    [Fact]
    public void TracesNestAndRecordNothingOnceClosed()
    {
        var x = Tensor.Randn([3], seed: 1);
        var outer = OpTrace.Start();
        var a = F.Relu(x);
        Tensor b;
        using (var inner = OpTrace.Start())
        {
            b = F.Tanh(x);
            Assert.Equal("Tanh", inner.ProducerOf(b)!.Op);
            Assert.Null(inner.ProducerOf(a));
        }
        var c = F.Sigmoid(x);
        outer.Dispose();
        var d = F.Exp(x);

        Assert.Equal("Relu", outer.ProducerOf(a)!.Op);
        Assert.Null(outer.ProducerOf(b));
        Assert.Equal("Sigmoid", outer.ProducerOf(c)!.Op);
        Assert.Null(outer.ProducerOf(d));
        Assert.False(OpTrace.IsActive);
    }
}
