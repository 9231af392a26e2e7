"""Operations' writes: `backup` (take one, keep the last N) and `restore` (bring one back)."""
