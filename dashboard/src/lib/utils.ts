// The class-name joiner shadcn/ui components use: clsx for conditions, tailwind-merge for conflicts.
import { type ClassValue, clsx } from "clsx";
import { twMerge } from "tailwind-merge";

export function cn(...inputs: ClassValue[]) {
  return twMerge(clsx(inputs));
}
