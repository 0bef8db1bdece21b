namespace ConvKit.Vision.Faces;

/// <summary>
/// Pairs of samples for judging verification: sample <see cref="First"/>[i] against <see cref="Second"/>[i], of the
/// same identity when <see cref="Same"/>[i]. <see cref="Build"/> makes them deterministically from a seed, half of
/// the same identity and half of different ones, as the LFW protocol's matched and mismatched pairs.
/// </summary>
public sealed record VerificationPairs(int[] First, int[] Second, bool[] Same)
{
    /// <summary>Number of pairs.</summary>
    public int Count => Same.Length;

    /// <summary>
    /// <paramref name="count"/> pairs of the samples whose identities are <paramref name="identities"/>: even-numbered
    /// pairs of one identity (a random sample and another of its identity), odd-numbered pairs of two (a random sample
    /// and a random sample of another identity). Draws from a generator seeded by <paramref name="seed"/> alone, so the
    /// same labels and seed give the same pairs in any run (and in the PyTorch twin, which reads them).
    /// </summary>
    /// <param name="identities">each sample's identity</param>
    /// <param name="count">number of pairs, even and at least 2</param>
    public static VerificationPairs Build(IReadOnlyList<int> identities, int count, long seed)
    {
        if (count < 2 || count % 2 != 0) throw new ArgumentException($"VerificationPairs: the number of pairs must be even and at least 2, not {count}.", nameof(count));
        var byIdentity = identities.Select((identity, index) => (identity, index)).GroupBy(s => s.identity)
            .ToDictionary(g => g.Key, g => g.Select(s => s.index).ToArray());
        var withPartner = identities.Select((identity, index) => (identity, index)).Where(s => byIdentity[s.identity].Length >= 2).Select(s => s.index).ToArray();
        if (withPartner.Length == 0)
            throw new ArgumentException($"VerificationPairs: no identity among the {identities.Count} samples has two pictures, so there is no same-identity pair.");
        if (byIdentity.Count < 2)
            throw new ArgumentException($"VerificationPairs: the {identities.Count} samples have one identity, so there is no pair of different identities.");
        var random = Generator.For(seed, 0x9A1_25);
        int[] first = new int[count], second = new int[count];
        bool[] same = new bool[count];
        for (int i = 0; i < count; i++)
        {
            same[i] = i % 2 == 0;
            if (same[i])
            {
                int a = withPartner[random.Next(withPartner.Length)];
                var partners = byIdentity[identities[a]];
                int b;
                do b = partners[random.Next(partners.Length)]; while (b == a);
                (first[i], second[i]) = (a, b);
            }
            else
            {
                int a = random.Next(identities.Count), b;
                do b = random.Next(identities.Count); while (identities[b] == identities[a]);
                (first[i], second[i]) = (a, b);
            }
        }
        return new VerificationPairs(first, second, same);
    }
}
