// The super group lobby: a visitor picks a name and joins the 'lobby' conversation as a guest,
// with the classic SDK's guest mode: select(conversation, {asGuest: true}). Beside it, the page
// runs the group chat demo (group-chat.js) as Alice, so both kinds of membership show side by side.
function guestId() {
  let id = localStorage.getItem('parley-demo-guest-id');
  if (!id) {
    id = 'guest-' + Math.random().toString(36).slice(2, 10);
    localStorage.setItem('parley-demo-guest-id', id);
  }
  return id;
}

function joinLobby(name) {
  Talk.ready.then(function () {
    const me = new Talk.User({ id: guestId(), name: name });
    const session = new Talk.Session({ appId: 'demo', me: me });
    const conversation = session.getOrCreateConversation('lobby');
    conversation.setAttributes({ subject: 'Lobby (super group)' });
    const chatbox = session.createChatbox();
    chatbox.select(conversation, { asGuest: true });
    window.lobbyMounted = chatbox.mount(document.getElementById('lobby-container'));
  });
}

document.getElementById('join-form').addEventListener('submit', function (event) {
  event.preventDefault();
  const name = document.getElementById('guest-name').value.trim();
  if (!name) return;
  document.getElementById('join-form').hidden = true;
  document.getElementById('lobby-container').hidden = false;
  joinLobby(name);
});
