"""Host pages written the way the TalkJS documentation writes them."""

from __future__ import annotations

import json

USERS = {
    "123456": {"id": "123456", "name": "Alice", "email": "alice@example.com", "welcomeMessage": "Hi!"},
    "654321": {"id": "654321", "name": "Sebastian", "email": "sebastian@example.com"},
    "456789": {"id": "456789", "name": "Steve", "email": "steve@example.com"},
}

SNIPPET = """<script>
(function(t,a,l,k,j,s){
s=a.createElement('script');s.async=1;s.src='%s/talk.js';a.head.appendChild(s)
;k=t.Promise;t.Talk={v:3,ready:{then:function(f){if(k)return new k(function(r,e){l.push([f,r,e])});l
.push([f])},catch:function(){return k&&new k()},c:l}};})(window,document,[]);
</script>"""


def loader(parley_url: str, how: str) -> str:
    if how == "snippet":
        return SNIPPET % parley_url
    return f'<script src="{parley_url}/talk.js"></script>'


def page(parley_url: str, body_script: str, how: str = "script", container_style: str = "height: 500px") -> str:
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
{loader(parley_url, how)}</head>
<body>
<div id="talkjs-container" style="width: 100%; {container_style}"><i>Loading chat...</i></div>
<script>
{body_script}
</script>
</body></html>"""


def group_chat(parley_url: str, me_id: str, how: str = "script", conversation: str = "new_group_chat",
               app_id: str = "demo", extra: str = "", setup: str = "") -> str:
    """The documentation's group chat of Alice, Sebastian and Steve, as `me_id`.

    `setup` runs before the chatbox is created, `extra` after it was mounted."""
    me = USERS[me_id]
    other1, other2 = (u for uid, u in USERS.items() if uid != me_id)
    script = f"""
Talk.ready.then(function () {{
  const me = new Talk.User({json.dumps(me)});
  const session = new Talk.Session({{ appId: {json.dumps(app_id)}, me: me }});
  window.session = session;
  const other1 = new Talk.User({json.dumps(other1)});
  const other2 = new Talk.User({json.dumps(other2)});
  const conversation = session.getOrCreateConversation({json.dumps(conversation)});
  conversation.setParticipant(me);
  conversation.setParticipant(other1);
  conversation.setParticipant(other2);
  conversation.setAttributes({{ photoUrl: "{parley_url}/demo/avatars/group.svg", subject: "Beautiful Steel Preserve" }});
  {setup}
  const chatbox = session.createChatbox();
  window.chatbox = chatbox;
  chatbox.select(conversation);
  window.mounted = chatbox.mount(document.getElementById("talkjs-container"));
  {extra}
}});"""
    return page(parley_url, script, how)
