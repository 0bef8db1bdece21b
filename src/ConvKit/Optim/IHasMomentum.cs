namespace ConvKit.Optim;

/// <summary>An optimiser with a momentum coefficient that a schedule may cycle: SGD's momentum, Adam's β1.</summary>
public interface IHasMomentum
{
    /// <summary>The momentum coefficient: SGD's momentum, or Adam's β1.</summary>
    double Momentum { get; set; }
}
