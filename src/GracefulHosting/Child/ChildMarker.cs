using System.Globalization;
using System.Net;
using System.Text;

namespace GracefulHosting.Child;

/// <summary>
/// The environment variable through which a master tells its child which inherited descriptors to use:
/// <c>generation=2;control=9;listen=5@127.0.0.1:8080,6@[::]:443|0.0.0.0:443,7!http</c>.
/// Each listen entry is a descriptor and the addresses Kestrel asks for that it stands in for, or,
/// after <c>!</c>, the scheme of a socket systemd passed that no configured endpoint claims: the
/// child serves it as an extra endpoint of its own.
/// </summary>
internal sealed record ChildMarker(int Generation, int ControlFd, IReadOnlyList<InheritedListener> Listeners)
{
    public const string VariableName = "GRACEFULHOSTING_CHILD";

    public string Format()
    {
        var builder = new StringBuilder();
        builder.Append(CultureInfo.InvariantCulture, $"generation={Generation};control={ControlFd};listen=");
        builder.AppendJoin(',', Listeners.Select(l => l.ExtraScheme is { } scheme
            ? l.Fd.ToString(CultureInfo.InvariantCulture) + "!" + scheme
            : l.Fd.ToString(CultureInfo.InvariantCulture) + "@" + string.Join('|', l.Addresses.Select(a => a.ToString()))));
        return builder.ToString();
    }

    /// <summary>Parses the marker; throws <see cref="FormatException"/> with a message that names the variable.</summary>
    public static ChildMarker Parse(string value)
    {
        int? generation = null;
        int? control = null;
        List<InheritedListener>? listeners = null;

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

        return new ChildMarker(generation.Value, control.Value, listeners);
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
            int bang = entry.IndexOf('!', StringComparison.Ordinal);
            if (bang > 0)
            {
                string scheme = entry[(bang + 1)..];
                if (scheme is not ("http" or "https"))
                {
                    throw Bad(value, $"listen entry '{entry}' must end in !http or !https");
                }

                listeners.Add(new InheritedListener(ParseNumber(value, "listen", entry[..bang], 3), [], scheme));
                continue;
            }

            int at = entry.IndexOf('@', StringComparison.Ordinal);
            if (at <= 0)
            {
                throw Bad(value, $"listen entry '{entry}' must look like <fd>@<address>");
            }

            int fd = ParseNumber(value, "listen", entry[..at], 3);
            var addresses = new List<IPEndPoint>();
            foreach (string address in entry[(at + 1)..].Split('|'))
            {
                if (!IPEndPoint.TryParse(address, out var endPoint))
                {
                    throw Bad(value, $"'{address}' is not an IP address and port");
                }

                addresses.Add(endPoint);
            }

            listeners.Add(new InheritedListener(fd, addresses));
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

    private static FormatException Bad(string value, string reason) =>
        new($"The environment variable {VariableName}='{value}' is invalid: {reason}. It is set by the GracefulHosting master for its children; do not set it by hand.");
}

/// <summary>
/// A listening socket inherited from the master, and the Kestrel addresses it stands in for; or,
/// when <paramref name="ExtraScheme"/> is set, a socket the child serves as an endpoint of its own.
/// </summary>
internal sealed record InheritedListener(int Fd, IReadOnlyList<IPEndPoint> Addresses, string? ExtraScheme = null);
