"""Size limits on what clients may store. Over a limit is refused, never truncated."""

MAX_ID_LENGTH = 255
MAX_NAME_LENGTH = 255
MAX_TEXT_FIELD_LENGTH = 10_000  # photo URLs, welcome messages, subjects
MAX_MESSAGE_TEXT = 10_000
MAX_LIST_ITEMS = 20  # email addresses, phone numbers, welcome messages
MAX_CUSTOM_KEYS = 50
MAX_CUSTOM_KEY_LENGTH = 100
MAX_CUSTOM_VALUE_LENGTH = 10_000
MAX_MESSAGES_PER_POST = 10
MAX_PARTICIPANTS_PER_PUT = 100
MAX_REQUEST_BYTES = 1_000_000
DEFAULT_PAGE_SIZE = 30
MAX_PAGE_SIZE = 100
MAX_CATCH_UP = 100  # messages returned after a reconnect in one join; the rest come page by page
MAX_CUSTOM_CHARACTERS = 50_000  # keys and values of one custom object together
MAX_UNREAD_CONVERSATIONS = 500  # newest-first participations looked at for session.unreads
