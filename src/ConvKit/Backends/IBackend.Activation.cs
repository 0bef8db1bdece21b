namespace ConvKit.Backends;

/// <summary>Element-wise activation functions.</summary>
public enum ActivationOp
{
    /// <summary>max(x, 0)</summary>
    Relu,
    /// <summary>x for x &gt; 0, else slope·x (the slope is the kernel's parameter)</summary>
    LeakyRelu,
    /// <summary>min(max(x, 0), 6)</summary>
    Relu6,
    /// <summary>tanh(x)</summary>
    Tanh,
    /// <summary>1 / (1 + e^−x)</summary>
    Sigmoid,
    /// <summary>min(max(x + 3, 0), 6) / 6</summary>
    HardSigmoid,
    /// <summary>x · min(max(x + 3, 0), 6) / 6</summary>
    HardSwish,
    /// <summary>x · sigmoid(x) (SiLU, also called Swish)</summary>
    Silu,
    /// <summary>x · Φ(x) = x · ½(1 + erf(x/√2)) (GELU, exact form; Φ is the standard normal distribution function)</summary>
    Gelu,
}

public partial interface IBackend
{
    /// <summary>y = f(x) element-wise; <paramref name="parameter"/> is LeakyRelu's negative slope and ignored otherwise.</summary>
    void Activation(ActivationOp op, float parameter, Storage x, Storage y);

    /// <summary>
    /// gradX = gradY·f′, element-wise. The ReLU family reads f′ from x (0 at the kinks, the slope for
    /// LeakyRelu at 0, as PyTorch), Tanh and Sigmoid from their output y, Silu from x (σ(x)(1 + x(1 − σ(x)))), Gelu from x (Φ(x) + x·φ(x), φ the standard normal density). HardSigmoid and HardSwish read x, with
    /// PyTorch's values at the kinks: HardSigmoid′ is 1/6 strictly inside (−3, 3), else 0; HardSwish′ is 0 below −3,
    /// x/3 + 1/2 on [−3, 3], 1 above.
    /// </summary>
    void ActivationBackward(ActivationOp op, float parameter, Storage x, Storage y, Storage gradY, Storage gradX);
}
