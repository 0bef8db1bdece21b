using Spectre.Console;

namespace ConvKit.Cli.Commands;

static class ConsoleOutput
{
    /// <summary>A Spectre console writing to <paramref name="output"/> (the command's Output, so tests can capture it),
    /// at least 120 columns wide so that tables redirected to files do not wrap.</summary>
    public static IAnsiConsole For(TextWriter output)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output) });
        console.Profile.Width = Math.Max(console.Profile.Width, 120);
        return console;
    }
}
