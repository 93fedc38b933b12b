from django.contrib.auth.hashers import Argon2PasswordHasher


class FastArgon2idHasher(Argon2PasswordHasher):
    """Argon2id with test-sized cost parameters (same algorithm and encoding)."""

    time_cost = 1
    memory_cost = 256
    parallelism = 1
