namespace ConvKit.Data.Transforms;

/// <summary>
/// Randomly changes brightness, contrast, saturation and hue, as torchvision.transforms.ColorJitter: the four changes
/// run in a random order, each with a factor drawn uniformly from [max(0, 1 − v), 1 + v] (hue: a shift in [−v, v] of a
/// turn of the colour wheel); a setting of 0 leaves that change out. Values are clamped to [0, 1] after each change.
/// It touches only the image: boxes and masks stay as they are.
/// <list type="bullet">
/// <item>brightness f: x·f</item>
/// <item>contrast f: f·x + (1 − f)·m, m the mean grey level of the whole picture</item>
/// <item>saturation f: f·x + (1 − f)·g, g the pixel's grey level (nothing on a 1-channel picture)</item>
/// <item>hue h: the pixel's hue in HSV rotated by h (nothing on a 1-channel picture)</item>
/// </list>
/// Grey is 0.2989·R + 0.587·G + 0.114·B, torchvision's rgb_to_grayscale.
/// </summary>
public sealed class ColorJitter : ITransform
{
    /// <summary>Jitter with torchvision's parameters (see the class); 0 leaves that change out.</summary>
    public ColorJitter(float brightness = 0, float contrast = 0, float saturation = 0, float hue = 0)
    {
        foreach (var (name, value) in new[] { (nameof(brightness), brightness), (nameof(contrast), contrast), (nameof(saturation), saturation) })
            if (!(value >= 0 && float.IsFinite(value)))
                throw new ArgumentOutOfRangeException(name, value, $"ColorJitter: {name} must be a finite number ≥ 0, not {value}.");
        if (!(hue >= 0 && hue <= 0.5f))
            throw new ArgumentOutOfRangeException(nameof(hue), hue, $"ColorJitter: hue must be in [0, 0.5], not {hue}.");
        (Brightness, Contrast, Saturation, Hue) = (brightness, contrast, saturation, hue);
    }

    /// <summary>Largest relative change of brightness.</summary>
    public float Brightness { get; }
    /// <summary>Largest relative change of contrast.</summary>
    public float Contrast { get; }
    /// <summary>Largest relative change of saturation.</summary>
    public float Saturation { get; }
    /// <summary>Largest hue shift, in turns (at most 0.5).</summary>
    public float Hue { get; }

    /// <param name="image">C·H·W values in [0, 1], row-major</param>
    /// <param name="shape">(C, H, W) with C = 1 or 3</param>
    public void Apply(Span<float> image, IReadOnlyList<int> shape, Random random)
    {
        if (shape.Count != 3 || shape[0] is not (1 or 3))
            throw new ArgumentException($"ColorJitter: expected an image of shape (1 or 3, H, W), got {Shapes.Format(shape)}.");
        // torchvision's order of draws: the permutation, then one factor per enabled change.
        Span<int> order = [0, 1, 2, 3];
        random.Shuffle(order);
        float brightness = Factor(random, Brightness), contrast = Factor(random, Contrast), saturation = Factor(random, Saturation);
        float hue = Hue > 0 ? (float)(-Hue + 2 * Hue * random.NextDouble()) : 0;
        int channels = shape[0], plane = shape[1] * shape[2];
        foreach (int change in order)
            switch (change)
            {
                case 0 when Brightness > 0: Blend(image, brightness, 0); break;
                case 1 when Contrast > 0: Blend(image, contrast, MeanGrey(image, channels, plane)); break;
                case 2 when Saturation > 0 && channels == 3: BlendWithGrey(image, saturation, plane); break;
                case 3 when Hue > 0 && channels == 3: RotateHue(image, hue, plane); break;
            }
    }

    static float Factor(Random random, float spread) =>
        spread > 0 ? (float)(Math.Max(0, 1 - spread) + (1 + spread - Math.Max(0, 1 - spread)) * random.NextDouble()) : 1;

    static float Grey(float r, float g, float b) => 0.2989f * r + 0.587f * g + 0.114f * b;

    static float MeanGrey(ReadOnlySpan<float> image, int channels, int plane)
    {
        double sum = 0;
        for (int i = 0; i < plane; i++)
            sum += channels == 1 ? image[i] : Grey(image[i], image[plane + i], image[2 * plane + i]);
        return (float)(sum / plane);
    }

    /// <summary>x ← clamp(f·x + (1 − f)·other).</summary>
    static void Blend(Span<float> image, float factor, float other)
    {
        for (int i = 0; i < image.Length; i++) image[i] = Math.Clamp(factor * image[i] + (1 - factor) * other, 0f, 1f);
    }

    static void BlendWithGrey(Span<float> image, float factor, int plane)
    {
        for (int i = 0; i < plane; i++)
        {
            float grey = Grey(image[i], image[plane + i], image[2 * plane + i]);
            for (int c = 0; c < 3; c++)
                image[c * plane + i] = Math.Clamp(factor * image[c * plane + i] + (1 - factor) * grey, 0f, 1f);
        }
    }

    /// <summary>RGB → HSV, hue + shift (mod 1), HSV → RGB, pixel by pixel.</summary>
    static void RotateHue(Span<float> image, float shift, int plane)
    {
        for (int i = 0; i < plane; i++)
        {
            float r = image[i], g = image[plane + i], b = image[2 * plane + i];
            float max = MathF.Max(r, MathF.Max(g, b)), min = MathF.Min(r, MathF.Min(g, b)), chroma = max - min;
            if (chroma == 0) continue; // grey: no hue to turn
            float sector = max == r ? (g - b) / chroma : max == g ? 2 + (b - r) / chroma : 4 + (r - g) / chroma;
            float hue = sector / 6 + shift;
            hue -= MathF.Floor(hue);
            float saturation = chroma / max, value = max;
            float h6 = hue * 6;
            int k = (int)MathF.Floor(h6) % 6;
            float f = h6 - MathF.Floor(h6);
            float p = value * (1 - saturation), q = value * (1 - saturation * f), t = value * (1 - saturation * (1 - f));
            (r, g, b) = k switch
            {
                0 => (value, t, p),
                1 => (q, value, p),
                2 => (p, value, t),
                3 => (p, q, value),
                4 => (t, p, value),
                _ => (value, p, q),
            };
            image[i] = Math.Clamp(r, 0f, 1f);
            image[plane + i] = Math.Clamp(g, 0f, 1f);
            image[2 * plane + i] = Math.Clamp(b, 0f, 1f);
        }
    }
}
