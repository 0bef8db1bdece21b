using System.Globalization;

namespace ConvKit.Vision.Detection;

/// <summary>
/// The anchors of a region proposal network (Ren et al. 2015), with torchvision 0.14's <c>AnchorGenerator</c> semantics
/// for one feature map. Each feature-map cell holds A = |ratios|·|sizes| anchors, ratio-major: for aspect ratio r
/// (height / width) and size s, an anchor of width s/√r and height s·√r, centred on the cell's top-left pixel
/// (x·stride, y·stride), its corners rounded to whole pixels (halves to even). Anchors are listed cell by cell,
/// row-major over (y, x), then by anchor — the order the network's 1×1 heads produce after a permute to (H, W, A).
/// </summary>
public sealed class AnchorGenerator
{
    readonly float[] cell;

    /// <param name="sizes">anchor sides in input pixels (the square root of their area), e.g. 32, 64, 128</param>
    /// <param name="aspectRatios">heights over widths, e.g. 0.5, 1, 2</param>
    public AnchorGenerator(IReadOnlyList<float> sizes, IReadOnlyList<float> aspectRatios)
    {
        if (sizes.Count == 0 || aspectRatios.Count == 0)
            throw new ArgumentException("AnchorGenerator: there must be at least one size and one aspect ratio.");
        foreach (float v in sizes.Concat(aspectRatios))
            if (!(v > 0 && float.IsFinite(v)))
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"AnchorGenerator: sizes and aspect ratios must be positive and finite, got {v}."));
        Sizes = sizes.ToArray();
        AspectRatios = aspectRatios.ToArray();
        cell = new float[4 * Sizes.Count * AspectRatios.Count];
        int a = 0;
        foreach (float ratio in AspectRatios)
        {
            float heightRatio = MathF.Sqrt(ratio), widthRatio = 1 / heightRatio;
            foreach (float size in Sizes)
            {
                float halfWidth = widthRatio * size / 2, halfHeight = heightRatio * size / 2;
                (cell[a], cell[a + 1], cell[a + 2], cell[a + 3]) =
                    (MathF.Round(-halfWidth), MathF.Round(-halfHeight), MathF.Round(halfWidth), MathF.Round(halfHeight));
                a += 4;
            }
        }
    }

    /// <summary>The anchor sizes, in input pixels.</summary>
    public IReadOnlyList<float> Sizes { get; }

    /// <summary>The aspect ratios (height / width).</summary>
    public IReadOnlyList<float> AspectRatios { get; }

    /// <summary>Anchors per feature-map cell (A).</summary>
    public int PerCell => Sizes.Count * AspectRatios.Count;

    /// <summary>(A·4) the anchors of the cell at the origin, xyxy pixels, ratio-major.</summary>
    public ReadOnlySpan<float> CellAnchors => cell;

    /// <summary>
    /// (H·W·A·4) every anchor of a feature map, xyxy pixels of the input: cell (y, x) holds <see cref="CellAnchors"/>
    /// shifted by (x·strideX, y·strideY). torchvision's strides are the picture's size over the map's, in whole pixels.
    /// </summary>
    public float[] Anchors(int featureHeight, int featureWidth, int strideY, int strideX)
    {
        if (featureHeight < 1 || featureWidth < 1 || strideY < 1 || strideX < 1)
            throw new ArgumentException($"AnchorGenerator.Anchors: the feature map ({featureHeight}×{featureWidth}) and strides ({strideY}, {strideX}) must be positive.");
        var anchors = new float[featureHeight * featureWidth * cell.Length];
        int i = 0;
        for (int y = 0; y < featureHeight; y++)
            for (int x = 0; x < featureWidth; x++)
                for (int a = 0; a < cell.Length; a += 4)
                {
                    anchors[i++] = cell[a] + x * strideX;
                    anchors[i++] = cell[a + 1] + y * strideY;
                    anchors[i++] = cell[a + 2] + x * strideX;
                    anchors[i++] = cell[a + 3] + y * strideY;
                }
        return anchors;
    }
}
