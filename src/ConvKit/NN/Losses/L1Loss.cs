using ConvKit.Ops;

namespace ConvKit.NN;

/// <summary>Mean absolute error |x − y| between input and target of one shape.</summary>
public class L1Loss(Reduction reduction = Reduction.Mean) : Loss(reduction)
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input, Tensor target) => F.L1Loss(input, target, Reduction);
}
