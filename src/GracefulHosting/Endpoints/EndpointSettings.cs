using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;

namespace GracefulHosting.Endpoints;

/// <summary>
/// The settings that name endpoints (<c>Kestrel:Endpoints:*:Url</c> and the hosting URLs), so that a
/// message can say which setting an endpoint Kestrel asked for came from, and a socket from systemd
/// named after a <c>Kestrel:Endpoints</c> entry can be matched to it. Kestrel alone decides what to
/// bind; this only reads the same URLs back to tell people where to look.
/// </summary>
internal sealed class EndpointSettings
{
    private readonly IReadOnlyList<Entry> _entries;

    private EndpointSettings(IReadOnlyList<Entry> entries) => _entries = entries;

    /// <param name="kestrel">The section Kestrel reads endpoints from (its configuration loader's), or null.</param>
    /// <param name="hosting">The hosting URLs the server gets.</param>
    public static EndpointSettings From(IConfiguration? kestrel, HostingAddresses hosting)
    {
        var entries = new List<Entry>();
        if (kestrel is not null)
        {
            string prefix = (kestrel as IConfigurationSection)?.Path is { Length: > 0 } path ? path + ":" : "";
            foreach (var endpoint in kestrel.GetSection("Endpoints").GetChildren())
            {
                if (endpoint["Url"] is { } url)
                {
                    entries.Add(new Entry($"{prefix}Endpoints:{endpoint.Key}:Url", endpoint.Key, url));
                }
            }
        }

        entries.AddRange(hosting.Urls.Select(url => new Entry(hosting.Source, null, url)));
        return new EndpointSettings(entries);
    }

    /// <summary>Says which setting asked for <paramref name="endpoint"/> (text of <see cref="EndpointText"/>).</summary>
    public string Describe(string endpoint, int occurrence = 0) =>
        Find(endpoint, occurrence) is { } entry
            ? $"{entry.Setting} = '{entry.Url}'"
            : _entries.Count == 0 && endpoint is ("127.0.0.1:5000" or "[::1]:5000")
                ? "Kestrel's default http://localhost:5000"
                : "an endpoint set in code";

    /// <summary>The name of the <c>Kestrel:Endpoints</c> entry that asks for <paramref name="endpoint"/>, or null.</summary>
    public string? NameOf(string endpoint, int occurrence = 0) => Find(endpoint, occurrence)?.Name;

    /// <summary>
    /// The setting behind the <paramref name="occurrence"/>th request (0-based) of <paramref name="endpoint"/>:
    /// two entries can ask for the same endpoint (two URLs with port 0), and Kestrel binds them in order.
    /// The last match when there are fewer; null when none matches.
    /// </summary>
    private Entry? Find(string endpoint, int occurrence)
    {
        var matching = _entries.Where(e => RequestsOf(e.Url).Contains(endpoint)).ToList();
        return matching.Count == 0 ? null : matching[Math.Min(occurrence, matching.Count - 1)];
    }

    /// <summary>The settings whose value occurs in <paramref name="message"/>, else every setting.</summary>
    public string DescribeAll(string message)
    {
        var named = _entries.Where(e => message.Contains(e.Url, StringComparison.Ordinal)).ToList();
        var shown = named.Count > 0 ? named : _entries;
        return shown.Count == 0
            ? "no endpoint is configured"
            : string.Join(", ", shown.Select(e => $"{e.Setting} = '{e.Url}'"));
    }

    /// <summary>The endpoints Kestrel asks for to serve <c>Kestrel:Endpoints:&lt;name&gt;</c>; empty if there is no such entry.</summary>
    public IReadOnlyList<string> RequestsOfEndpoint(string name) =>
        _entries.FirstOrDefault(e => string.Equals(e.Name, name, StringComparison.OrdinalIgnoreCase)) is { } entry
            ? RequestsOf(entry.Url)
            : [];

    /// <summary>
    /// The endpoints Kestrel's address binder asks its transport for when it serves <paramref name="url"/>:
    /// the path of <c>unix:</c> URLs, both loopback addresses for <c>localhost</c>, the address for an IP
    /// literal, and any address (IPv6, then IPv4) for every other host name. Empty for a URL Kestrel rejects.
    /// </summary>
    internal static IReadOnlyList<string> RequestsOf(string url)
    {
        try
        {
            var address = BindingAddress.Parse(url);
            if (address.IsUnixPipe)
            {
                return ["unix:" + address.UnixPipePath];
            }

            int port = address.Port;
            if (string.Equals(address.Host, "localhost", StringComparison.OrdinalIgnoreCase) ||
                address.Host.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase))
            {
                return [new IPEndPoint(IPAddress.Loopback, port).ToString(), new IPEndPoint(IPAddress.IPv6Loopback, port).ToString()];
            }

            return IPAddress.TryParse(address.Host, out var ip)
                ? [new IPEndPoint(ip, port).ToString()]
                : [new IPEndPoint(IPAddress.IPv6Any, port).ToString(), new IPEndPoint(IPAddress.Any, port).ToString()];
        }
        catch (Exception e) when (e is FormatException or ArgumentException)
        {
            return [];
        }
    }

    private sealed record Entry(string Setting, string? Name, string Url);
}
