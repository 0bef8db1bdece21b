using System.CommandLine;

namespace ConvKit.Cli;

/// <summary>What to say when the command line names no command, or one that does not exist: the word typed, the nearest command, where help is.</summary>
static class CommandSuggestions
{
    /// <summary>How the user types <paramref name="command"/>: "convkit", "convkit onnx", "convkit segment train".</summary>
    public static string PathOf(Command command)
    {
        var names = new List<string>();
        for (var c = command; c != null && c is not RootCommand; c = c.Parents.OfType<Command>().FirstOrDefault())
            names.Insert(0, c.Name);
        return string.Join(' ', ["convkit", .. names]);
    }

    /// <summary>
    /// The message for a command line that stops at <paramref name="command"/>, which needs a subcommand:
    /// <paramref name="typed"/> is the word given where the subcommand belongs, or null when there was none.
    /// </summary>
    public static string Message(Command command, string? typed)
    {
        string path = PathOf(command);
        var names = command.Subcommands.Where(c => !c.Hidden).Select(c => c.Name).ToList();
        string list = $"the commands are {string.Join(", ", names)} (see '{path} --help').";
        if (typed == null) return (command is RootCommand ? "no command given; " : $"'{path}' needs one of its commands; ") + list;
        string? nearest = Nearest(typed, names);
        return $"'{typed}' is not a {path} command; " + (nearest != null ? $"did you mean '{nearest}'? (see '{path} --help')" : list);
    }

    /// <summary>The name closest to <paramref name="typed"/> in edits (a swap of two neighbours counts as one), when close enough to be a typo.</summary>
    public static string? Nearest(string typed, IEnumerable<string> names)
    {
        var (best, distance) = names.Select(n => (Name: n, Distance: Distance(typed.ToLowerInvariant(), n))).MinBy(c => c.Distance);
        bool prefix = names.Count(n => n.StartsWith(typed, StringComparison.OrdinalIgnoreCase)) == 1 && typed.Length >= 2;
        if (prefix) return names.First(n => n.StartsWith(typed, StringComparison.OrdinalIgnoreCase));
        return best != null && distance <= Math.Max(1, Math.Min(2, best.Length / 3)) ? best : null;
    }

    /// <summary>Optimal string alignment distance: insertions, deletions, substitutions and swaps of neighbours.</summary>
    static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (int i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (int j = 0; j <= b.Length; j++) d[0, j] = j;
        for (int i = 1; i <= a.Length; i++)
            for (int j = 1; j <= b.Length; j++)
            {
                int cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
            }
        return d[a.Length, b.Length];
    }
}
