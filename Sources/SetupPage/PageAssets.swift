import Crypto
import Foundation

/// The page's only style sheet and script, inlined, and the
/// `Content-Security-Policy` that allows exactly them (by SHA-256 hash) and
/// nothing else: no other script, style, image, font, frame or connection.
enum PageAssets {
    /// The style sheet. Colours are chosen for at least 4.5:1 contrast of text
    /// on its background (the browser test measures it).
    static let css = """
    :root{--ink:#1b1f24;--muted:#4f5660;--line:#d5dae1;--field:#6b7480;--bg:#f4f5f7;--card:#fff;--accent:#1d4ed8;--accent-dark:#1e40af;--danger:#b42318;--danger-dark:#8f1c13;--ok-bg:#e3f4e8;--ok-ink:#14532d;--off-bg:#eceef1;--off-ink:#3f454d;--mono:ui-monospace,SFMono-Regular,Menlo,Consolas,"DejaVu Sans Mono","Liberation Mono",monospace}
    *,*::before,*::after{box-sizing:border-box}
    [hidden]{display:none!important}
    html{-webkit-text-size-adjust:100%}
    body{margin:0;background:var(--bg);color:var(--ink);font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","Liberation Sans",Arial,sans-serif}
    a{color:var(--accent)}
    a:hover{color:var(--accent-dark)}
    :focus-visible{outline:3px solid var(--accent);outline-offset:2px}
    .skip{position:absolute;left:8px;top:-48px;background:var(--card);color:var(--accent);padding:8px 12px;border-radius:6px;z-index:10}
    .skip:focus{top:8px}
    .sr-only{position:absolute;width:1px;height:1px;margin:-1px;padding:0;overflow:hidden;clip:rect(0,0,0,0);white-space:nowrap;border:0}
    .top{background:var(--card);border-bottom:1px solid var(--line)}
    .top .wrap{display:flex;align-items:center;gap:10px;padding-top:14px;padding-bottom:14px}
    .logo{display:inline-block;width:26px;height:26px;border-radius:7px;background:var(--accent);position:relative;flex:none}
    .logo::after{content:"";position:absolute;inset:7px;border:2px solid #fff;border-radius:50%}
    .brand{margin:0;font-weight:650;letter-spacing:.01em}
    .wrap{max-width:880px;margin:0 auto;padding-left:20px;padding-right:20px}
    main.wrap{padding-top:28px;padding-bottom:48px}
    h1{font-size:1.75rem;line-height:1.25;margin:0 0 6px;overflow-wrap:anywhere}
    h2{font-size:1.25rem;margin:36px 0 12px}
    h3{font-size:1.1rem;margin:0;overflow-wrap:anywhere}
    p{margin:0 0 12px}
    p,li{overflow-wrap:anywhere}
    .lead{color:var(--muted);margin-bottom:20px}
    .guide{border-top:1px solid var(--line);padding-top:12px}
    .guide summary{font-weight:600;cursor:pointer}
    .guide ol{margin:8px 0 8px;padding-left:1.4em}
    .guide li{margin:0 0 4px}
    .card{background:var(--card);border:1px solid var(--line);border-radius:12px;padding:20px;box-shadow:0 1px 2px rgba(16,24,40,.05)}
    .facts{display:grid;grid-template-columns:repeat(auto-fit,minmax(180px,1fr));gap:14px 24px;margin:0}
    .facts div,.meta div{min-width:0}
    dt{color:var(--muted);font-size:.85rem;font-weight:600;text-transform:uppercase;letter-spacing:.04em}
    dd{margin:2px 0 0;font-weight:600;overflow-wrap:anywhere}
    .notice{border-radius:10px;padding:12px 16px;margin:20px 0 0;border:1px solid #a9c1f5;background:#eaf1ff}
    .notice.error{border-color:#f1b4ad;background:#fdeceb}
    .notice p{margin:0}
    .dirs{display:grid;gap:16px}
    .dir.is-new{border-color:var(--accent);box-shadow:0 0 0 3px #c7d7fb}
    .dir-head{display:flex;flex-wrap:wrap;align-items:center;gap:8px 12px;margin-bottom:12px}
    .badge{display:inline-block;font-size:.8rem;font-weight:700;padding:2px 10px;border-radius:999px;letter-spacing:.02em}
    .badge.active{background:var(--ok-bg);color:var(--ok-ink)}
    .badge.inactive{background:var(--off-bg);color:var(--off-ink)}
    .meta{display:flex;flex-wrap:wrap;gap:8px 32px;margin:0 0 16px}
    .meta dd{font-weight:500}
    .info{border-top:1px solid var(--line);padding-top:16px;display:grid;gap:14px}
    .field label,.form label{display:block;font-weight:600;margin-bottom:6px}
    .copy-row{display:flex;align-items:flex-start;gap:8px}
    .copy-row textarea{flex:1;min-width:0;font-family:var(--mono);font-size:.9rem;line-height:1.45;background:#f8f9fb;resize:none;field-sizing:content;overflow-wrap:anywhere;word-break:break-all}
    input,select,textarea{font:inherit;color:var(--ink);background:var(--card);border:1px solid var(--field);border-radius:8px;padding:9px 12px;min-height:44px;width:100%}
    select{appearance:auto}
    .hint{color:var(--muted);font-size:.9rem;margin:6px 0 0}
    .note{color:var(--muted);margin:0}
    .actions{display:flex;flex-wrap:wrap;gap:10px;margin-top:18px}
    .actions form{margin:0}
    .button,button{display:inline-flex;align-items:center;justify-content:center;gap:6px;font:inherit;font-weight:600;min-height:44px;padding:9px 18px;border-radius:8px;border:1px solid var(--field);background:var(--card);color:var(--ink);cursor:pointer;text-decoration:none;white-space:nowrap}
    .button:hover,button:hover{background:#eef0f3;color:var(--ink)}
    .primary{background:var(--accent);border-color:var(--accent);color:#fff}
    .primary:hover{background:var(--accent-dark);color:#fff}
    .danger{color:var(--danger);border-color:#e3a59f}
    .danger:hover{background:#fdeceb;color:var(--danger-dark)}
    .danger.solid{background:var(--danger);border-color:var(--danger);color:#fff}
    .danger.solid:hover{background:var(--danger-dark);color:#fff}
    .form{display:grid;gap:18px}
    .form .row{display:grid;grid-template-columns:1fr 1fr;gap:18px}
    .opt{color:var(--muted);font-weight:400}
    .empty{color:var(--muted);text-align:center;padding:28px 20px}
    .center{max-width:560px;margin:8vh auto 0;text-align:center}
    .center h1{margin-bottom:12px}
    .form .notice{margin:0}
    .center .actions{justify-content:center}
    footer{color:var(--muted);font-size:.85rem;text-align:center;padding:0 20px 32px}
    @media (max-width:600px){
    main.wrap{padding-top:20px}
    h1{font-size:1.45rem}
    .card{padding:16px}
    .form .row{grid-template-columns:1fr}
    .copy-row button{padding-left:14px;padding-right:14px}
    .actions>*{flex:1 1 140px}
    .actions .button,.actions button,.form .primary{width:100%}
    }
    """

    /// The script: only the copy buttons. They start `hidden`, so without
    /// JavaScript there is no button that does nothing; the fields stay
    /// selectable for copying by hand.
    static let js = """
    (function(){
    var status=document.getElementById('copy-status');
    function copied(b){var t=b.textContent;b.textContent='Copied';status.textContent=b.getAttribute('data-what')+' copied to the clipboard';setTimeout(function(){b.textContent=t;},2000);}
    function fallback(f,b){f.focus();f.select();try{if(document.execCommand('copy')){copied(b);return;}}catch(e){}status.textContent='Press Ctrl+C or Cmd+C to copy the selected text';}
    var buttons=document.querySelectorAll('button[data-copy]');
    for(var i=0;i<buttons.length;i++){(function(b){
    b.hidden=false;
    b.addEventListener('click',function(){
    var f=document.getElementById(b.getAttribute('data-copy'));
    if(navigator.clipboard&&window.isSecureContext){navigator.clipboard.writeText(f.value).then(function(){copied(b);},function(){fallback(f,b);});}
    else{fallback(f,b);}
    });
    })(buttons[i]);}
    })();
    """

    /// `Content-Security-Policy` for every page: nothing from anywhere, except
    /// the inline style sheet and script above by their hashes, forms posting
    /// to this origin only, no framing, no `<base>`.
    static let contentSecurityPolicy =
        "default-src 'none'; style-src '\(hash(css))'; script-src '\(hash(js))'; img-src data:; "
        + "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

    /// `sha256-<base64>` of `text`'s UTF-8 bytes, the CSP source expression for an inline block.
    static func hash(_ text: String) -> String {
        var digest = SHA256Hasher()
        digest.update(Array(text.utf8))
        return "sha256-" + Data(digest.finalizeBytes()).base64EncodedString()
    }
}
