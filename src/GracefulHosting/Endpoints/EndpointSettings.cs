using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;

namespace GracefulHosting.Endpoints;

// Kestrel alone decides what to bind; this reads the same URLs back to name the setting behind an endpoint and to match systemd's names.
internal sealed class EndpointSettings
{
    private readonly IReadOnlyList<Entry> _entries;

    private EndpointSettings(IReadOnlyList<Entry> entries) => _entries = entries;

    // kestrel: the section Kestrel's configuration loader reads endpoints from, or null.
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

    public string Describe(string endpoint, int occurrence = 0) =>
        Find(endpoint, occurrence) is { } entry
            ? $"{entry.Setting} = '{entry.Url}'"
            : _entries.Count == 0 && endpoint is ("127.0.0.1:5000" or "[::1]:5000")
                ? "Kestrel's default http://localhost:5000"
                : "an endpoint set in code";

    public string? NameOf(string endpoint, int occurrence = 0) => Find(endpoint, occurrence)?.Name;

    // Two entries can ask for the same endpoint (two URLs with port 0), and Kestrel binds them in order.
    private Entry? Find(string endpoint, int occurrence)
    {
        var matching = _entries.Where(e => RequestsOf(e.Url).Contains(endpoint)).ToList();
        return matching.Count == 0 ? null : matching[Math.Min(occurrence, matching.Count - 1)];
    }

    public string DescribeAll(string message)
    {
        var named = _entries.Where(e => message.Contains(e.Url, StringComparison.Ordinal)).ToList();
        var shown = named.Count > 0 ? named : _entries;
        return shown.Count == 0
            ? "no endpoint is configured"
            : string.Join(", ", shown.Select(e => $"{e.Setting} = '{e.Url}'"));
    }

    public IReadOnlyList<string> RequestsOfEndpoint(string name) =>
        _entries.FirstOrDefault(e => string.Equals(e.Name, name, StringComparison.OrdinalIgnoreCase)) is { } entry
            ? RequestsOf(entry.Url)
            : [];

    // As Kestrel's address binder: both loopbacks for localhost, any address (IPv6, then IPv4) for other names; empty if it rejects the URL.
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
