using System.Globalization;
using System.Text;
using GracefulHosting.Endpoints;

namespace GracefulHosting.Child;

/// <summary>
/// The environment variable through which a master tells its child which inherited descriptors to use:
/// <c>generation=2;control=9;listen=5@127.0.0.1:8080,6@[::1]:8080,7@unix:/run/app.sock</c>.
/// Each listen entry is a descriptor and the endpoint Kestrel asks for that it stands in for (see
/// <see cref="EndpointText"/>). Under socket activation, when systemd's sockets stand in for the app's
/// hosting URLs, <c>;urls=http://127.0.0.1:8080,...</c> lists them. In values, <c>%</c>, <c>,</c>,
/// <c>;</c> and control characters are percent-encoded.
/// </summary>
internal sealed record ChildMarker(int Generation, int ControlFd, IReadOnlyList<InheritedListener> Listeners)
{
    public const string VariableName = "GRACEFULHOSTING_CHILD";

    /// <summary>URLs the child gives its server when the app names none (systemd's sockets), else empty.</summary>
    public IReadOnlyList<string> HostingUrls { get; init; } = [];

    public string Format()
    {
        var builder = new StringBuilder();
        builder.Append(CultureInfo.InvariantCulture, $"generation={Generation};control={ControlFd};listen=");
        builder.AppendJoin(',', Listeners.Select(l => l.Fd.ToString(CultureInfo.InvariantCulture) + "@" + Escape(l.Endpoint)));
        if (HostingUrls.Count > 0)
        {
            builder.Append(";urls=").AppendJoin(',', HostingUrls.Select(Escape));
        }

        return builder.ToString();
    }

    /// <summary>Parses the marker; throws <see cref="FormatException"/> with a message that names the variable.</summary>
    public static ChildMarker Parse(string value)
    {
        int? generation = null;
        int? control = null;
        List<InheritedListener>? listeners = null;
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
                case "listen":
                    listeners = ParseListeners(value, text);
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

        if (generation is null || control is null || listeners is null)
        {
            throw Bad(value, "it must name generation, control and listen");
        }

        var seen = new HashSet<int> { control.Value };
        foreach (var listener in listeners)
        {
            if (!seen.Add(listener.Fd))
            {
                throw Bad(value, $"descriptor {listener.Fd} is named twice");
            }
        }

        return new ChildMarker(generation.Value, control.Value, listeners) { HostingUrls = urls };
    }

    private static List<InheritedListener> ParseListeners(string value, string text)
    {
        var listeners = new List<InheritedListener>();
        if (text.Length == 0)
        {
            throw Bad(value, "listen names no descriptor");
        }

        foreach (string entry in text.Split(','))
        {
            int at = entry.IndexOf('@', StringComparison.Ordinal);
            if (at <= 0)
            {
                throw Bad(value, $"listen entry '{entry}' must look like <fd>@<endpoint>");
            }

            int fd = ParseNumber(value, "listen", entry[..at], 3);
            string endpoint = Unescape(entry[(at + 1)..]);
            if (!EndpointText.IsValid(endpoint))
            {
                throw Bad(value, $"'{endpoint}' is not an endpoint (an IP address and port, unix:<path> or fd:<number>)");
            }

            listeners.Add(new InheritedListener(fd, endpoint));
        }

        return listeners;
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

/// <summary>A listening socket inherited from the master, and the endpoint Kestrel asks for that it stands in for.</summary>
/// <param name="Fd">The inherited descriptor.</param>
/// <param name="Endpoint">The endpoint (text of <see cref="EndpointText"/>).</param>
internal sealed record InheritedListener(int Fd, string Endpoint);
