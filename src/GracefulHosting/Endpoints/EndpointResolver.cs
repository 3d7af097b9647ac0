using System.Globalization;
using System.Net;
using Microsoft.Extensions.Configuration;

namespace GracefulHosting.Endpoints;

/// <summary>
/// Reads the endpoints Kestrel would bind from the app's configuration, with Kestrel's precedence:
/// <c>Kestrel:Endpoints</c>, then <c>urls</c> (<c>--urls</c>, <c>ASPNETCORE_URLS</c>), then
/// <c>http_ports</c>/<c>https_ports</c> (<c>ASPNETCORE_HTTP_PORTS</c>), then <c>http://localhost:5000</c>.
/// </summary>
internal static class EndpointResolver
{
    public const string DefaultUrl = "http://localhost:5000";

    public static IReadOnlyList<ListenEndpoint> Resolve(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);

        var fromKestrel = new List<ListenEndpoint>();
        foreach (var endpoint in configuration.GetSection("Kestrel:Endpoints").GetChildren())
        {
            string source = $"Kestrel:Endpoints:{endpoint.Key}:Url";
            string? url = endpoint["Url"];
            if (string.IsNullOrWhiteSpace(url))
            {
                throw new InvalidOperationException($"{source} is missing: every Kestrel endpoint needs a Url.");
            }

            fromKestrel.Add(Parse(endpoint.Key, url.Trim(), source));
        }

        if (fromKestrel.Count > 0)
        {
            return fromKestrel;
        }

        string? urls = configuration["urls"];
        if (!string.IsNullOrWhiteSpace(urls))
        {
            return SplitList(urls).Select((url, i) => Parse($"Url{i}", url, "urls")).ToList();
        }

        var fromPorts = new List<ListenEndpoint>();
        AddPorts(fromPorts, configuration["http_ports"], "http", "http_ports");
        AddPorts(fromPorts, configuration["https_ports"], "https", "https_ports");
        if (fromPorts.Count > 0)
        {
            return fromPorts;
        }

        return [Parse("Default", DefaultUrl, "default")];
    }

    /// <summary>Parses one URL the way Kestrel's address binder does.</summary>
    public static ListenEndpoint Parse(string name, string url, string source)
    {
        int schemeEnd = url.IndexOf("://", StringComparison.Ordinal);
        if (schemeEnd <= 0)
        {
            throw Invalid(source, url, "it has no scheme; use http:// or https://");
        }

        string scheme = url[..schemeEnd].ToLowerInvariant();
        if (scheme is not ("http" or "https"))
        {
            throw Invalid(source, url, $"the scheme '{scheme}' is not supported; use http:// or https://");
        }

        string rest = url[(schemeEnd + 3)..];
        int pathStart = rest.IndexOf('/', StringComparison.Ordinal);
        string authority = pathStart >= 0 ? rest[..pathStart] : rest;
        if (authority.StartsWith("unix:", StringComparison.OrdinalIgnoreCase) ||
            authority.StartsWith("pipe:", StringComparison.OrdinalIgnoreCase))
        {
            throw Invalid(source, url, "Unix domain sockets and named pipes are not supported; use a TCP address");
        }

        string host;
        string? portText = null;
        if (authority.StartsWith('['))
        {
            int close = authority.IndexOf(']', StringComparison.Ordinal);
            if (close < 0)
            {
                throw Invalid(source, url, "the IPv6 address has no closing ']'");
            }

            host = authority[1..close];
            string after = authority[(close + 1)..];
            if (after.Length > 0)
            {
                if (!after.StartsWith(':'))
                {
                    throw Invalid(source, url, "unexpected text after the IPv6 address");
                }

                portText = after[1..];
            }
        }
        else
        {
            int colon = authority.LastIndexOf(':');
            host = colon >= 0 ? authority[..colon] : authority;
            portText = colon >= 0 ? authority[(colon + 1)..] : null;
        }

        if (host.Length == 0)
        {
            throw Invalid(source, url, "it has no host");
        }

        int port = scheme == "https" ? 443 : 80;
        if (portText is not null &&
            (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out port) || port > IPEndPoint.MaxPort))
        {
            throw Invalid(source, url, $"'{portText}' is not a port number between 0 and 65535");
        }

        List<BindTarget> targets;
        if (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            if (port == 0)
            {
                throw Invalid(source, url, "port 0 cannot be used with localhost; use 127.0.0.1:0");
            }

            targets = [new(new IPEndPoint(IPAddress.Loopback, port), true), new(new IPEndPoint(IPAddress.IPv6Loopback, port), false)];
        }
        else if (IPAddress.TryParse(host, out var address))
        {
            targets = [new(new IPEndPoint(address, port), true)];
        }
        else
        {
            // "*", "+" and host names bind every address, as in Kestrel.
            targets = [new(new IPEndPoint(IPAddress.IPv6Any, port), true)];
        }

        return new ListenEndpoint(name, url, source, targets);
    }

    private static void AddPorts(List<ListenEndpoint> endpoints, string? ports, string scheme, string source)
    {
        if (string.IsNullOrWhiteSpace(ports))
        {
            return;
        }

        foreach (string port in SplitList(ports))
        {
            endpoints.Add(Parse($"{scheme}_port_{port}", $"{scheme}://*:{port}", source));
        }
    }

    private static IEnumerable<string> SplitList(string value) =>
        value.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static InvalidOperationException Invalid(string source, string url, string reason) =>
        new($"{source} has an invalid URL '{url}': {reason}.");
}
