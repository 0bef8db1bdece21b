using System.CommandLine;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Spectre.Console;

namespace ConvKit.Cli.Commands;

/// <summary>
/// Where a command writes: a Spectre console over the invocation's output for people, or one JSON document for
/// programs (<c>--json</c>), in which case nothing else goes to standard output.
/// </summary>
sealed class CommandOutput
{
    static readonly ConditionalWeakTable<Command, string> examples = [];

    /// <summary>Example command lines, shown at the end of the command's --help.</summary>
    public static void AddExamples(Command command, string lines) => examples.AddOrUpdate(command, lines);

    /// <summary>The Examples section of <paramref name="command"/>'s help, or "" when it has none.</summary>
    public static string ExamplesOf(Command command) => examples.TryGetValue(command, out var lines)
        ? "Examples:\n" + string.Join("", lines.Split('\n').Select(line => "  " + line + "\n")) + "\n"
        : "";

    /// <summary>Adds the <c>--json</c> switch every command has.</summary>
    public static void AddJsonOption(Command command) =>
        command.Add(new Option<bool>("--json") { Description = "Print one JSON document instead of tables and progress bars." });

    static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public CommandOutput(ParseResult parsed)
    {
        Writer = parsed.InvocationConfiguration.Output;
        Error = parsed.InvocationConfiguration.Error;
        Json = parsed.GetValue<bool>("--json");
        Console = ConsoleOutput.For(Writer);
        // Redirected output (a log file, a test) is read as lines: no wrapping at the default 80 or 120 columns.
        if (!ReferenceEquals(Writer, System.Console.Out) || System.Console.IsOutputRedirected) Console.Profile.Width = 240;
    }

    public TextWriter Writer { get; }
    /// <summary>Standard error: problems with one of several inputs, said while the others still give their results.</summary>
    public TextWriter Error { get; }
    public bool Json { get; }
    public IAnsiConsole Console { get; }

    /// <summary>Writes <paramref name="document"/> as indented snake_case JSON.</summary>
    public void WriteJson(object document) => Writer.WriteLine(JsonSerializer.Serialize(document, JsonOptions));

    /// <summary>One line on standard error, "convkit: <paramref name="message"/>", as the program's own errors read (also in JSON mode).</summary>
    public void Problem(string message) => Error.WriteLine("convkit: " + message);

    /// <summary>A line for people (nothing in JSON mode).</summary>
    public void Line(string markup)
    {
        if (!Json) Console.MarkupLine(markup);
    }
}
