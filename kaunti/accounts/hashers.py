"""Argon2 with cheap parameters, for the test suite only (settings use it when KAUNTI_TESTING).

The suite creates and signs in hundreds of staff users; at the production parameters
(100 MiB, several passes) each hash costs a third of a second on two cores. The
algorithm and code path stay the same.
"""

from django.contrib.auth.hashers import Argon2PasswordHasher


class QuickArgon2PasswordHasher(Argon2PasswordHasher):
    time_cost = 1
    memory_cost = 1024
    parallelism = 1
