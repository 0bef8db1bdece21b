using ConvKit.Ops;

namespace ConvKit.NN;

/// <summary>tanh x, element-wise, any shape (see <see cref="F.Tanh"/>). No parameters.</summary>
public sealed class Tanh : Module
{
    public override Tensor Forward(Tensor input) => F.Tanh(input);
}
