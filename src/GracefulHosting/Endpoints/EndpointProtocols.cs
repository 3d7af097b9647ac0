using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace GracefulHosting.Endpoints;

/// <summary>
/// The HTTP version the app's Kestrel speaks to a plain (not TLS) connection on each of its endpoints,
/// as <see cref="KestrelEndpointProbe"/> found it before the real Kestrel binds, for the warm-up to speak
/// it from its first request: <see cref="HttpProtocols.Http1"/> when the endpoint takes HTTP/1.1,
/// <see cref="HttpProtocols.Http2"/> when it takes HTTP/2 alone. An endpoint is named by its text
/// (<see cref="EndpointText"/>) and, when Kestrel asks for the same one more than once, by its occurrence.
/// </summary>
internal sealed class EndpointProtocols
{
    private readonly Lock _lock = new();
    private IReadOnlyDictionary<(string Endpoint, int Occurrence), HttpProtocols> _found =
        new Dictionary<(string Endpoint, int Occurrence), HttpProtocols>();

    /// <summary>Keeps what the probe found, in place of what it found before.</summary>
    public void Record(IReadOnlyDictionary<(string Endpoint, int Occurrence), HttpProtocols> found)
    {
        lock (_lock)
        {
            _found = found;
        }
    }

    /// <summary>
    /// What the <paramref name="occurrence"/>th request (0-based) of <paramref name="endpoint"/> speaks on a
    /// plain connection, or null when the probe could not tell (an https endpoint, or one it did not reach).
    /// </summary>
    public HttpProtocols? Of(string endpoint, int occurrence)
    {
        lock (_lock)
        {
            return _found.TryGetValue((endpoint, occurrence), out var protocols) ? protocols : null;
        }
    }
}
