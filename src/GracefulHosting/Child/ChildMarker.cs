using System.Globalization;
using System.Text;

namespace GracefulHosting.Child;

// The value: generation=2;control=9, plus ;urls=... under socket activation; '%', ',', ';' and control characters are percent-encoded.
internal sealed record ChildMarker(int Generation, int ControlFd)
{
    public const string VariableName = "GRACEFULHOSTING_CHILD";

    // systemd's socket URLs, for the child's server when the app names none of its own.
    public IReadOnlyList<string> HostingUrls { get; init; } = [];

    public string Format()
    {
        var builder = new StringBuilder();
        builder.Append(CultureInfo.InvariantCulture, $"generation={Generation};control={ControlFd}");
        if (HostingUrls.Count > 0)
        {
            builder.Append(";urls=").AppendJoin(',', HostingUrls.Select(Escape));
        }

        return builder.ToString();
    }

    public static ChildMarker Parse(string value)
    {
        int? generation = null;
        int? control = null;
        IReadOnlyList<string> urls = [];

        foreach (string part in value.Split(';', StringSplitOptions.TrimEntries))
        {
            int eq = part.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                throw Bad(value, $"'{part}' is not a key=value pair");
            }

            string key = part[..eq];
            string text = part[(eq + 1)..];
            switch (key)
            {
                case "generation":
                    generation = ParseNumber(value, key, text, 1);
                    break;
                case "control":
                    control = ParseNumber(value, key, text, 3);
                    break;
                case "urls":
                    urls = text.Split(',').Select(Unescape).ToList();
                    if (urls.Any(u => u.Length == 0))
                    {
                        throw Bad(value, "urls has an empty entry");
                    }

                    break;
                default:
                    throw Bad(value, $"unknown key '{key}'");
            }
        }

        if (generation is null || control is null)
        {
            throw Bad(value, "it must name generation and control");
        }

        return new ChildMarker(generation.Value, control.Value) { HostingUrls = urls };
    }

    private static int ParseNumber(string value, string key, string text, int minimum)
    {
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int number) || number < minimum)
        {
            throw Bad(value, $"{key} '{text}' is not a number of at least {minimum}");
        }

        return number;
    }

    private static string Escape(string text)
    {
        var builder = new StringBuilder(text.Length);
        foreach (char c in text)
        {
            if (c is '%' or ',' or ';' || char.IsControl(c))
            {
                builder.Append(CultureInfo.InvariantCulture, $"%{(int)c:X2}");
            }
            else
            {
                builder.Append(c);
            }
        }

        return builder.ToString();
    }

    private static string Unescape(string text) => Uri.UnescapeDataString(text);

    private static FormatException Bad(string value, string reason) =>
        new($"The environment variable {VariableName}='{value}' is invalid: {reason}. It is set by the GracefulHosting master for its children; do not set it by hand.");
}
