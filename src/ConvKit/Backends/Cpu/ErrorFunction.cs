using System.Numerics;
using System.Numerics.Tensors;

namespace ConvKit.Backends.Cpu;

/// <summary>
/// The error function in float32, within about 1.5e-7 of erf's value relative (one or two ulps), for GELU's exact
/// form (x·½·(1 + erf(x/√2)), as ConvNeXt and ViT export it). .NET has no Math.Erf; the two polynomials below were
/// fitted for ConvKit (Chebyshev fits in float64 against Python's math.erf, rounded to float32):
/// <list type="bullet">
/// <item>|x| &lt; 0.875: erf x = x·P(x²), P of degree 6 (the Taylor series' first coefficient 2/√π);</item>
/// <item>0.875 ≤ |x| &lt; 4: erf x = 1 − e^−x²·Q(|x| − 2.4375), Q of degree 11 fitted to erfc(x)·e^x² (smooth,
/// between 0.43 and 0.14), centred so float32 Horner steps stay well conditioned;</item>
/// <item>|x| ≥ 4: ±1 (erfc 4 ≈ 1.5e-8 is below half an ulp of 1).</item>
/// </list>
/// Both branches are computed for a vector of lanes and the right one selected; e^−x² comes from TensorPrimitives.
/// </summary>
static class ErrorFunction
{
    const float Split = 0.875f, Centre = 2.4375f, Saturation = 4f;
    const int Chunk = 256;

    static readonly float[] Small =
        [1.128379225730896f, -0.37612634897232056f, 0.11283735930919647f, -0.02686174027621746f, 0.005207134410738945f,
         -0.0008215559646487236f, 8.694667485542595e-05f];

    static readonly float[] Large =
        [0.2155524641275406f, -0.07756081223487854f, 0.026498349383473396f, -0.008648294024169445f, 0.0027073072269558907f,
         -0.0008169856737367809f, 0.00024177935847546905f, -6.856028630863875e-05f, 1.613931090105325e-05f,
         -4.247048309480306e-06f, 2.0897687136312015e-06f, -5.405784690992732e-07f];

    /// <summary>y = erf(x) element-wise; y may be x. NaN stays NaN.</summary>
    public static void Compute(ReadOnlySpan<float> x, Span<float> y)
    {
        Span<float> gauss = stackalloc float[Chunk];
        for (int start = 0; start < x.Length; start += Chunk)
        {
            int length = Math.Min(Chunk, x.Length - start);
            var source = x.Slice(start, length);
            var destination = y.Slice(start, length);
            var g = gauss[..length];
            // e^−x² for the whole chunk first (vectorised), then the polynomials.
            TensorPrimitives.Multiply(source, source, g);
            TensorPrimitives.Negate(g, g);
            TensorPrimitives.Exp(g, g);
            int i = 0;
            for (; i <= length - Vector<float>.Count; i += Vector<float>.Count)
                Lanes(new Vector<float>(source[i..]), new Vector<float>(g[i..])).CopyTo(destination[i..]);
            for (; i < length; i++) destination[i] = Scalar(source[i], g[i]);
        }
    }

    // The coefficients are written out (not looped over) so the JIT keeps them as constants beside the FMAs.
    static Vector<float> Lanes(Vector<float> x, Vector<float> gauss)
    {
        var magnitude = Vector.Abs(x);
        var t = x * x;
        var small = magnitude * Horner(t, 1.128379225730896f, -0.37612634897232056f, 0.11283735930919647f, -0.02686174027621746f,
            0.005207134410738945f, -0.0008215559646487236f, 8.694667485542595e-05f);
        var u = Vector.Min(magnitude, new Vector<float>(Saturation)) - new Vector<float>(Centre);
        var large = Vector<float>.One - gauss * Horner(u, 0.2155524641275406f, -0.07756081223487854f, 0.026498349383473396f,
            -0.008648294024169445f, 0.0027073072269558907f, -0.0008169856737367809f, 0.00024177935847546905f, -6.856028630863875e-05f,
            1.613931090105325e-05f, -4.247048309480306e-06f, 2.0897687136312015e-06f, -5.405784690992732e-07f);
        var value = Vector.ConditionalSelect(Vector.LessThan(magnitude, new Vector<float>(Split)), small,
            Vector.ConditionalSelect(Vector.LessThan(magnitude, new Vector<float>(Saturation)), large, Vector<float>.One));
        // Restore the sign (erf is odd), and let NaN through (it fails every comparison above).
        var signed = Vector.ConditionalSelect(Vector.LessThan(x, Vector<float>.Zero), -value, value);
        return Vector.ConditionalSelect(Vector.Equals(x, x), signed, x);
    }

    /// <summary>c0 + c1·t + … + c6·t⁶.</summary>
    static Vector<float> Horner(Vector<float> t, float c0, float c1, float c2, float c3, float c4, float c5, float c6) =>
        Step(Step(Step(Step(Step(Step(new Vector<float>(c6), t, c5), t, c4), t, c3), t, c2), t, c1), t, c0);

    /// <summary>c0 + c1·t + … + c11·t¹¹.</summary>
    static Vector<float> Horner(Vector<float> t, float c0, float c1, float c2, float c3, float c4, float c5, float c6, float c7,
        float c8, float c9, float c10, float c11) =>
        Step(Step(Step(Step(Step(Step(Step(Step(Step(Step(Step(new Vector<float>(c11), t, c10), t, c9), t, c8), t, c7), t, c6), t, c5), t, c4),
            t, c3), t, c2), t, c1), t, c0);

    static Vector<float> Step(Vector<float> p, Vector<float> t, float c) => Vector.MultiplyAddEstimate(p, t, new Vector<float>(c));

    static float Scalar(float x, float gauss)
    {
        if (float.IsNaN(x)) return x;
        float magnitude = MathF.Abs(x), value;
        if (magnitude < Split)
        {
            float square = x * x, p = Small[^1];
            for (int k = Small.Length - 2; k >= 0; k--) p = p * square + Small[k];
            value = magnitude * p;
        }
        else if (magnitude < Saturation)
        {
            float shifted = magnitude - Centre, q = Large[^1];
            for (int k = Large.Length - 2; k >= 0; k--) q = q * shifted + Large[k];
            value = 1f - q * gauss;
        }
        else value = 1f;
        return x < 0 ? -value : value;
    }
}
