using System.Globalization;

namespace ConvKit.Vision.Detection;

/// <summary>
/// The R-CNN box parameterisation (Girshick et al. 2014, appendix C; Fast and Faster R-CNN use it unchanged), with
/// torchvision 0.14's <c>BoxCoder</c> semantics. A reference box (the one to reach) is coded relative to a proposal
/// (or anchor) P as deltas
/// <c>dx = wx·(Gx − Px)/Pw, dy = wy·(Gy − Py)/Ph, dw = ww·log(Gw/Pw), dh = wh·log(Gh/Ph)</c>,
/// centres (x, y) and sizes (w, h) taken from xyxy boxes in pixels as <c>w = x2 − x1</c>, <c>x = x1 + w/2</c>. The weights
/// (wx, wy, ww, wh) scale the deltas to a unit-ish spread: (1, 1, 1, 1) for the region proposal network, (10, 10, 5, 5)
/// for the Fast R-CNN head. Decoding clamps dw and dh at log(1000/16) before the exponential, so a wild prediction
/// cannot overflow.
/// </summary>
public sealed record BoxCoder(float WeightX, float WeightY, float WeightWidth, float WeightHeight)
{
    /// <summary>The largest size delta decoding exponentiates: log(1000/16), torchvision's <c>bbox_xform_clip</c>.</summary>
    public static readonly float SizeDeltaClamp = MathF.Log(1000f / 16);

    /// <summary>The region proposal network's coder (weights 1, 1, 1, 1).</summary>
    public static BoxCoder RegionProposals { get; } = new(1, 1, 1, 1);

    /// <summary>The Fast R-CNN box head's coder (weights 10, 10, 5, 5).</summary>
    public static BoxCoder RegionHead { get; } = new(10, 10, 5, 5);

    /// <summary>
    /// The deltas that move each proposal onto its reference box: row k of <paramref name="deltas"/> codes
    /// <paramref name="references"/> row k against <paramref name="proposals"/> row k.
    /// </summary>
    /// <param name="references">(K·4) xyxy pixels, the boxes to reach</param>
    /// <param name="proposals">(K·4) xyxy pixels, each of positive width and height</param>
    /// <param name="deltas">(K·4) written: (dx, dy, dw, dh) per row</param>
    public void Encode(ReadOnlySpan<float> references, ReadOnlySpan<float> proposals, Span<float> deltas)
    {
        Check("BoxCoder.Encode", references.Length, proposals.Length, deltas.Length);
        for (int k = 0; k < proposals.Length; k += 4)
        {
            float pw = proposals[k + 2] - proposals[k], ph = proposals[k + 3] - proposals[k + 1];
            float gw = references[k + 2] - references[k], gh = references[k + 3] - references[k + 1];
            if (!(pw > 0 && ph > 0))
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                    $"BoxCoder.Encode: proposal {k / 4} [{proposals[k]}, {proposals[k + 1]}, {proposals[k + 2]}, {proposals[k + 3]}] has no area; deltas are relative to its width and height."));
            float px = proposals[k] + 0.5f * pw, py = proposals[k + 1] + 0.5f * ph;
            float gx = references[k] + 0.5f * gw, gy = references[k + 1] + 0.5f * gh;
            deltas[k] = WeightX * (gx - px) / pw;
            deltas[k + 1] = WeightY * (gy - py) / ph;
            deltas[k + 2] = WeightWidth * MathF.Log(gw / pw);
            deltas[k + 3] = WeightHeight * MathF.Log(gh / ph);
        }
    }

    /// <summary>The boxes the deltas make of the proposals (the inverse of <see cref="Encode"/>, size deltas clamped).</summary>
    /// <param name="deltas">(K·4) (dx, dy, dw, dh) per row</param>
    /// <param name="proposals">(K·4) xyxy pixels</param>
    /// <param name="boxes">(K·4) written: xyxy pixels, not clipped to any picture</param>
    public void Decode(ReadOnlySpan<float> deltas, ReadOnlySpan<float> proposals, Span<float> boxes)
    {
        Check("BoxCoder.Decode", deltas.Length, proposals.Length, boxes.Length);
        for (int k = 0; k < proposals.Length; k += 4)
        {
            float pw = proposals[k + 2] - proposals[k], ph = proposals[k + 3] - proposals[k + 1];
            float px = proposals[k] + 0.5f * pw, py = proposals[k + 1] + 0.5f * ph;
            float dx = deltas[k] / WeightX, dy = deltas[k + 1] / WeightY;
            float dw = MathF.Min(deltas[k + 2] / WeightWidth, SizeDeltaClamp), dh = MathF.Min(deltas[k + 3] / WeightHeight, SizeDeltaClamp);
            float x = dx * pw + px, y = dy * ph + py, halfWidth = 0.5f * MathF.Exp(dw) * pw, halfHeight = 0.5f * MathF.Exp(dh) * ph;
            (boxes[k], boxes[k + 1], boxes[k + 2], boxes[k + 3]) = (x - halfWidth, y - halfHeight, x + halfWidth, y + halfHeight);
        }
    }

    static void Check(string op, int first, int proposals, int output)
    {
        if (proposals % 4 != 0 || first != proposals || output != proposals)
            throw new ArgumentException($"{op}: expected three spans of K·4 numbers (xyxy or delta rows), got {first}, {proposals} and {output}.");
    }

    /// <summary>Clips xyxy boxes to a picture of <paramref name="height"/> × <paramref name="width"/> pixels, in place.</summary>
    public static void Clip(Span<float> boxes, int height, int width)
    {
        for (int k = 0; k < boxes.Length; k += 4)
        {
            boxes[k] = Math.Clamp(boxes[k], 0, width);
            boxes[k + 1] = Math.Clamp(boxes[k + 1], 0, height);
            boxes[k + 2] = Math.Clamp(boxes[k + 2], 0, width);
            boxes[k + 3] = Math.Clamp(boxes[k + 3], 0, height);
        }
    }
}
