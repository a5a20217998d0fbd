"""A real HTTP server on 127.0.0.1 for the fetching tests: routes, faults and a request log."""

from __future__ import annotations

import hashlib
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LAST_MODIFIED = "Wed, 14 Sep 2022 08:00:00 GMT"


@dataclass(frozen=True)
class Seen:
    path: str
    headers: Mapping[str, str]


class Request:
    """What a route gets: the request's headers and ways to answer it."""

    def __init__(self, handler: BaseHTTPRequestHandler, server: WebServer) -> None:
        self.handler = handler
        self.server = server
        self.path = handler.path
        self.headers = {k.lower(): v for k, v in handler.headers.items()}

    def send(self, status: int, body: bytes = b"", headers: Mapping[str, str] | None = None) -> None:
        self.handler.send_response(status)
        headers = dict(headers or {})
        headers.setdefault("Content-Length", str(len(body)))
        for key, value in headers.items():
            self.handler.send_header(key, value)
        self.handler.end_headers()
        if body and status != 304:
            self.write(body)

    def stream(self, chunks: Iterable[bytes], headers: Mapping[str, str]) -> None:
        self.handler.send_response(200)
        for key, value in headers.items():
            self.handler.send_header(key, value)
        self.handler.send_header("Connection", "close")
        self.handler.end_headers()
        try:
            for chunk in chunks:
                self.write(chunk)
        except (BrokenPipeError, ConnectionResetError):
            return

    def write(self, data: bytes) -> None:
        self.handler.wfile.write(data)
        self.handler.wfile.flush()
        self.server.count_sent(self.path, len(data))


Route = Callable[[Request], None]


class WebServer:
    """Start with ``with WebServer() as server``; add routes; read ``hits`` and ``seen``."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.seen: list[Seen] = []
        self.sent: dict[str, int] = defaultdict(int)
        self._lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                outer._handle(self)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                return

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._httpd.block_on_close = False
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self) -> WebServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def hits(self, path: str) -> int:
        return sum(1 for s in self.seen if s.path == path)

    def headers(self, path: str) -> list[Mapping[str, str]]:
        return [s.headers for s in self.seen if s.path == path]

    def count_sent(self, path: str, size: int) -> None:
        with self._lock:
            self.sent[path] += size

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        request = Request(handler, self)
        with self._lock:
            self.seen.append(Seen(handler.path, request.headers))
            route = self.routes.get(handler.path)
        if route is None:
            request.send(404, b"not found", {"Content-Type": "text/plain"})
            return
        route(request)

    def page(self, path: str, body: bytes | str, content_type: str = "text/html; charset=utf-8",
             validators: bool = True) -> None:
        """A static resource; with validators, ETag + Last-Modified and 304 to a matching request."""
        data = body.encode("utf-8") if isinstance(body, str) else body
        etag = '"' + hashlib.sha1(data).hexdigest()[:12] + '"'

        def route(request: Request) -> None:
            if validators and request.headers.get("if-none-match") == etag:
                request.send(304, headers={"ETag": etag})
                return
            headers = {"Content-Type": content_type}
            if validators:
                headers |= {"ETag": etag, "Last-Modified": LAST_MODIFIED}
            request.send(200, data, headers)

        self.routes[path] = route

    def reply(self, path: str, status: int, body: bytes = b"", headers: Mapping[str, str] | None = None) -> None:
        self.routes[path] = lambda request: request.send(status, body, headers)

    def sequence(self, path: str, *routes: Route) -> None:
        """Answer the n-th request with the n-th route (the last one repeats)."""
        count = {"n": 0}

        def route(request: Request) -> None:
            index = min(count["n"], len(routes) - 1)
            count["n"] += 1
            routes[index](request)

        self.routes[path] = route

    def slow(self, path: str, seconds: float, body: bytes = b"<html></html>") -> None:
        def route(request: Request) -> None:
            time.sleep(seconds)
            try:
                request.send(200, body, {"Content-Type": "text/html"})
            except (BrokenPipeError, ConnectionResetError):
                return

        self.routes[path] = route


ARTICLES = {
    "mes": (
        "Mon Espace Santé gagne du terrain chez les patients",
        "2022-09-14",
        [
            "Le carnet de santé en ligne Mon Espace Santé compte désormais plus de huit millions de "
            "comptes activés, selon les chiffres présentés par la délégation au numérique en santé.",
            "Les pharmaciens et les médecins généralistes alimentent de plus en plus souvent le dossier "
            "médical partagé, ce qui rend les comptes rendus accessibles aux patients dès leur sortie.",
            "Les associations d'usagers demandent toutefois un meilleur accompagnement des personnes "
            "éloignées du numérique, qui peinent encore à ouvrir leur profil.",
        ],
    ),
    "segur": (
        "Ségur du numérique : les hôpitaux accélèrent l'équipement",
        "2022-09-15",
        [
            "Le volet numérique du Ségur de la santé finance la mise à jour des logiciels des "
            "établissements afin qu'ils puissent échanger des documents par la messagerie sécurisée MSSanté.",
            "Plus de mille hôpitaux ont déjà reçu une version référencée de leur dossier patient, "
            "d'après l'Agence du numérique en santé.",
            "Les éditeurs signalent cependant des délais de certification trop longs, qui retardent "
            "le déploiement dans les petites structures.",
        ],
    ),
    "hdh": (
        "Le Health Data Hub toujours en quête de confiance",
        "2022-09-16",
        [
            "La plateforme des données de santé poursuit l'accompagnement de projets de recherche "
            "sur les données de l'Assurance maladie.",
            "L'hébergement des données chez un prestataire américain continue de susciter la méfiance "
            "de plusieurs acteurs, qui réclament une solution souveraine.",
            "Le ministère promet un appel d'offres pour un nouvel hébergeur d'ici deux ans.",
        ],
    ),
    "ins": (
        "L'identifiant national de santé se généralise",
        "2022-09-17",
        [
            "L'identité nationale de santé, dite INS, est désormais intégrée dans la plupart des "
            "logiciels hospitaliers, ce qui limite les erreurs d'identification des patients.",
            "Les laboratoires de biologie médicale ont été parmi les premiers à qualifier l'INS de "
            "leurs patients, selon l'Agence du numérique en santé.",
            "Les cabinets libéraux restent en retard, faute de temps pour vérifier les pièces d'identité.",
        ],
    ),
    "tele": (
        "La télésurveillance entre dans le droit commun",
        "2022-09-18",
        [
            "Après des années d'expérimentation, la télésurveillance médicale des patients atteints "
            "de maladies chroniques est désormais remboursée par l'Assurance maladie.",
            "Les fabricants de dispositifs connectés saluent une mesure attendue, qui sécurise le "
            "financement des équipes soignantes.",
            "Les sociétés savantes regrettent néanmoins des tarifs jugés trop bas pour couvrir le "
            "temps infirmier consacré au suivi des alertes.",
        ],
    ),
    "ecps": (
        "La carte e-CPS séduit les professionnels de santé",
        "2022-09-19",
        [
            "La carte de professionnel de santé dématérialisée, e-CPS, permet de se connecter aux "
            "services numériques sans lecteur de carte.",
            "Près de cinq cent mille professionnels l'ont déjà activée sur leur téléphone, indique "
            "l'Agence du numérique en santé.",
            "Certains services en ligne ne l'acceptent toutefois pas encore, ce qui oblige les "
            "soignants à garder leur carte physique.",
        ],
    ),
}


def article_html(key: str, *, charset: str = "utf-8", extra: str = "") -> str:
    """A small French news page about digital health (written for these tests)."""
    title, day, paragraphs = ARTICLES[key]
    body = "\n".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        f'<!DOCTYPE html><html lang="fr"><head><meta charset="{charset}"><title>{title}</title>'
        f'<meta property="article:published_time" content="{day}T09:00:00+02:00"></head>'
        f'<body><nav><a href="/">Accueil</a> <a href="/sante">Santé</a></nav>'
        f"<article><h1>{title}</h1>{body}{extra}</article>"
        f"<footer>Tous droits réservés.</footer></body></html>"
    )


def rss(items: Iterable[tuple[str, str]], title: str = "Actualités santé numérique") -> str:
    """An RSS 2.0 feed of (link, RFC 822 date) items."""
    entries = "".join(
        f"<item><title>Article {i}</title><link>{link}</link><pubDate>{day}</pubDate></item>"
        for i, (link, day) in enumerate(items)
    )
    return f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{title}</title>{entries}</channel></rss>'


BOMB = (
    '<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "ha"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
    '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>'
    '<rss version="2.0"><channel><title>&d;</title><item><link>http://127.0.0.1/x</link></item></channel></rss>'
)
